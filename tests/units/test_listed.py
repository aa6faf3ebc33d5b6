"""list's table, TSV and CSV read a stored job's data (ListedJob), not a model: every field
reads the same as from the FineTuningJob the same row rebuilds, for any job the API might send."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from support.strategies import jobs as job_strategy

from ftjobs.api.constants import LIST_FIELDS
from ftjobs.api.models import FineTuningJob
from ftjobs.render.cells import field_text
from ftjobs.store import JobFilter, Store
from ftjobs.store.rows import ListedJob


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(job_strategy)
def test_every_field_reads_the_same_from_the_data_as_from_the_model(
    tmp_path: Path, job: dict[str, Any]
) -> None:
    db = tmp_path / "jobs.db"
    db.unlink(missing_ok=True)
    with Store.open(db) as store:
        store.add(FineTuningJob.model_validate_json(json.dumps(job)))
        [model] = list(store.list_jobs(JobFilter()))
        [listed] = list(store.list_listed(JobFilter()))
    assert listed.data == model.to_api_dict()
    from_model = ListedJob(model.to_api_dict())
    keys = [f"metadata.{key}" for key in (job.get("metadata") or {})] + ["metadata.absent"]
    for name in (*LIST_FIELDS, *keys):
        assert field_text(listed, name) == field_text(from_model, name), name
