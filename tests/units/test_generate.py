"""tests/support/generate.py, the generator the benchmarks run on (python -m bench generate,
generate-events, fake-server): its jobs are ones ftjobs' model accepts, and its histories are the
API's objects, so a benchmark's numbers are about data ftjobs really takes."""

from __future__ import annotations

import json

import pytest
from support import generate

from ftjobs.api.models import FineTuningJob


def test_the_same_seed_gives_the_same_jobs_and_every_job_validates() -> None:
    jobs = list(generate.generate(300, 1))
    assert jobs == list(generate.generate(300, 1))
    assert jobs != list(generate.generate(300, 2))
    assert len({job["id"] for job in jobs}) == 300
    for job in jobs:
        FineTuningJob.model_validate(json.loads(json.dumps(job)))


def test_self_test_passes_and_reports_the_mix(capsys: pytest.CaptureFixture[str]) -> None:
    assert generate.self_test(2_000, 1) == 0
    assert "self-test passed: 2000 jobs valid" in capsys.readouterr().out


def test_generated_events_are_newest_first_with_unique_ids() -> None:
    histories = list(generate.generate_events(5, 40, seed=1))
    assert [job_id for job_id, _ in histories] == [j["id"] for j in generate.generate(5, 1)]
    for _, texts in histories:
        events = [json.loads(text) for text in texts]
        assert len(events) >= 40
        assert {event["object"] for event in events} == {"fine_tuning.job.event"}
        times = [event["created_at"] for event in events]
        assert times == sorted(times, reverse=True)
        assert len({event["id"] for event in events}) == len(events)
        assert any(event["type"] == "metrics" for event in events)


def test_a_served_history_is_the_same_objects_compact_and_pretty() -> None:
    job = next(job for job in generate.generate(50, 1) if job["status"] == "succeeded")
    history = generate.History(job, 1, 30, 2)
    assert len(history.events) == 30
    for _, compact, pretty in history.events + history.checkpoints:
        assert json.loads(compact) == json.loads(pretty)
    models = [json.loads(c)["fine_tuned_model_checkpoint"] for _, c, _ in history.checkpoints]
    assert job["fine_tuned_model"] in models
