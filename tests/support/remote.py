"""Texts as a server writes them, for the client and transport tests: key order not
alphabetical, floats spelled as Python would not."""

from __future__ import annotations

# A job as a server writes it: key order not alphabetical, floats spelled as Python would not.
JOB_TEXT = (
    '{"object":"fine_tuning.job","id":"ftjob-exact","model":"gpt-4o-mini-2024-07-18",'
    '"created_at":1722000000,"error":{},"hyperparameters":{"n_epochs":3,"batch_size":1,'
    '"learning_rate_multiplier":1.805623287509661e-5},"trained_tokens":240.0,'
    '"metadata":{"note":"a , b : { [ \\" ] }  two  spaces\\n"},"status":"succeeded",'
    '"result_files":["file-1"],"seed":42,"zeta":null,"alpha":1E+2,"uni":"caf\\u00e9 \u00e9"}'
)


def event_text(n: int) -> str:
    return (
        f'{{"object":"fine_tuning.job.event","id":"ftevent-{n:03d}",'
        f'"created_at":{1_700_000_000 + n},"level":"info",'
        f'"message":"Step {n}: training loss=0.5","data":{{"step":{n},'
        f'"train_loss":1.805623287509661e-5,"total_steps":240}},"type":"metrics"}}'
    )
