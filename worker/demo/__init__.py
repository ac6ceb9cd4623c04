"""`python -m worker demo`: the whole procedure on the sandbox, with a simulated clock.

The fake Zendesk is served over real HTTP on loopback; `setup` provisions it, realistic tickets
walk every branch of the procedure while simulated agents and customers act on them, and the
real worker (the Zendesk adapter, the scheduler's poll and sweep jobs) runs every 15 simulated
minutes. The timeline printed is what the customer and the agents would see in the helpdesk.
No account and no network beyond loopback; the people and documents are fictitious.
"""

from worker.demo.report import print_report
from worker.demo.world import DemoResult, run_demo

__all__ = ["DemoResult", "print_report", "run_demo"]
