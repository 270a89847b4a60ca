"""`mlmon suggest`: thresholds from the solution's own metric history, a backtest under
CloudWatch's evaluation rules, and a noise report from alarm history.

Pure modules (no boto3): `evaluation` (CloudWatch's M-out-of-N and missing-data rules),
`propose` (proposals and backtests per alarm), `noise` (alarm-history counts), `report`
(table, JSON, Markdown) and `patch` (the spec edit). The AWS calls live in `mlmon_cli.aws.history`.
"""
