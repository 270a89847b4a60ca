"""Generated Step Functions workflows: the steps model (model.py), step types (steps.py), the ASL
definition (asl.py) and the state machine's role (iam.py). The `workflow` kind is
mlmon_cli/components/workflow.py."""
