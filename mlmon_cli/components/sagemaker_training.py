"""Amazon SageMaker training job failures, from EventBridge.

Training metrics carry a per-run `Host` dimension (`<job-name>/algo-<n>`), unknown when the
template is written, so no static metric alarm can target them; the state-change event is the
reliable failure signal. https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html
Logs: `/aws/sagemaker/TrainingJobs`, shared by every training job in the account and Region;
saved queries keep the streams starting with `job_name_prefix`, metric filters cannot (they
count matches of every job).
"""

from __future__ import annotations

from . import component
from ._sagemaker_jobs import JobType, SageMakerJob

TRAINING = JobType(
    noun="training job",
    detail_type="SageMaker Training Job State Change",
    name_field="TrainingJobName",
    status_field="TrainingJobStatus",
    message_template="sagemaker_training_state_change.txt.j2",
    extra_paths=(("secondary", "$.detail.SecondaryStatus"),),
    log_group="/aws/sagemaker/TrainingJobs",
)


@component("sagemaker_training")
class SageMakerTraining(SageMakerJob):
    title = "Amazon SageMaker training jobs"
    job = TRAINING
    alarms = (
        TRAINING.alarm(
            "training_job_failed", "TrainingJobFailed",
            first_step="read the job's FailureReason and its CloudWatch log group /aws/sagemaker/TrainingJobs",
        ),
    )
