"""A stateful fake of the Zendesk Support API (see `zendesk.FakeZendesk`).

`responses_binding` is not imported here: it needs `responses`, a test dependency, and the
sandbox server must not.
"""

from worker.sandbox.limits import RateLimits
from worker.sandbox.state import Email
from worker.sandbox.zendesk import FakeZendesk, LostResponse

__all__ = ["Email", "FakeZendesk", "LostResponse", "RateLimits"]
