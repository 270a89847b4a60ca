"""Amazon SageMaker processing job failures, from EventBridge.

Processing metrics (`/aws/sagemaker/ProcessingJobs`) carry a per-run `Host` dimension
(`<job-name>/algo-<n>`), so the failure signal is the 'SageMaker Processing Job State Change'
event, whose detail carries `ProcessingJobStatus` and, when Failed, `FailureReason`.
https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html
"""

from __future__ import annotations

from . import component
from ._sagemaker_jobs import JobType, SageMakerJob

PROCESSING = JobType(
    noun="processing job",
    detail_type="SageMaker Processing Job State Change",
    name_field="ProcessingJobName",
    status_field="ProcessingJobStatus",
    message_template="sagemaker_processing_state_change.txt.j2",
)


@component("sagemaker_processing")
class SageMakerProcessing(SageMakerJob):
    title = "Amazon SageMaker processing jobs"
    job = PROCESSING
    alarms = (
        PROCESSING.alarm(
            "processing_job_failed", "ProcessingJobFailed",
            first_step="read the job's FailureReason and its CloudWatch log group /aws/sagemaker/ProcessingJobs",
        ),
    )
