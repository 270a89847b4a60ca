"""Commands that talk to AWS (`mlmon deploy`, `mlmon fire`).

boto3 is imported only by the modules of this package, and the CLI imports them only inside the
commands that need them, so `mlmon --help`, `generate`, `lint` and `validate` stay fast.
"""
