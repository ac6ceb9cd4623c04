"""A stateful fake of the Zendesk Support API (see `zendesk.FakeZendesk`), served over loopback
HTTP by `server.SandboxServer` and the `sandbox` command (`cli.sandbox_command`).

`responses_binding` is not imported here: it needs `responses`, a test dependency, and the
sandbox server must not.
"""

from worker.sandbox.faults import Faults
from worker.sandbox.limits import RateLimits
from worker.sandbox.state import Email
from worker.sandbox.zendesk import FakeZendesk, LostResponse

__all__ = ["Email", "FakeZendesk", "Faults", "LostResponse", "RateLimits"]
