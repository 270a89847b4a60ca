"""Amazon SageMaker hyperparameter tuning job failures, from EventBridge.

This watches the tuning job's own status ('SageMaker HyperParameter Tuning Job State Change',
`HyperParameterTuningJobStatus`); a tuning job can complete while some of its training jobs
failed (its `TrainingJobStatusCounters` count them): watch those with a `sagemaker_training` kind.
https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html
"""

from __future__ import annotations

from . import component
from ._sagemaker_jobs import JobType, SageMakerJob

TUNING = JobType(
    noun="hyperparameter tuning job",
    detail_type="SageMaker HyperParameter Tuning Job State Change",
    name_field="HyperParameterTuningJobName",
    status_field="HyperParameterTuningJobStatus",
    message_template="sagemaker_tuning_state_change.txt.j2",
)


@component("sagemaker_tuning")
class SageMakerTuning(SageMakerJob):
    title = "Amazon SageMaker hyperparameter tuning jobs"
    job = TUNING
    alarms = (
        TUNING.alarm(
            "tuning_job_failed", "TuningJobFailed",
            first_step="read the tuning job's FailureReason and the FailureReason of its failed training jobs "
            "('aws sagemaker list-training-jobs-for-hyper-parameter-tuning-job --status-equals Failed')",
            caveat="[unverified] the event carries FailureReason: AWS's example event for this type shows none "
            "(DescribeHyperParameterTuningJob has it); the message may show it empty.",
        ),
    )
