"""How a task's data folder is laid out: `span-N/` folders, rejected ones under `rejected/`.

Shared by the CLI's span handling (pipelines/spans.py) and the AnomalyGate, which moves a
rejected span aside itself where no kfx process is around to do it (a Kubeflow cluster).
Plain constants: importing this module imports nothing else.
"""

SPAN = "span-"
REJECTED = "rejected"
WHY_FILE = "REJECTED.txt"  # beside a rejected span's data: which run rejected it, and why
