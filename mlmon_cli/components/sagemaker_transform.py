"""Amazon SageMaker batch transform job failures, from EventBridge.

Transform metrics (`/aws/sagemaker/TransformJobs`) carry a per-run `Host` dimension
(`<job-name>/<instance-id>`), so the failure signal is the 'SageMaker Transform Job State Change'
event, whose detail carries `TransformJobStatus` and, when Failed, `FailureReason`.
https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html
"""

from __future__ import annotations

from . import component
from ._sagemaker_jobs import JobType, SageMakerJob

TRANSFORM = JobType(
    noun="transform job",
    detail_type="SageMaker Transform Job State Change",
    name_field="TransformJobName",
    status_field="TransformJobStatus",
    message_template="sagemaker_transform_state_change.txt.j2",
)


@component("sagemaker_transform")
class SageMakerTransform(SageMakerJob):
    title = "Amazon SageMaker batch transform jobs"
    job = TRANSFORM
    alarms = (
        TRANSFORM.alarm(
            "transform_job_failed", "TransformJobFailed",
            first_step="read the job's FailureReason and its CloudWatch log group /aws/sagemaker/TransformJobs "
            "(data and container logs)",
        ),
    )
