"""Write events/: a sample event for every function, from the event models (see tools/sample_events.py).

python -m tools.generate_sample_events
"""

from __future__ import annotations

import json
import sys

from tools.lambda_code import use_lambda_code


def main() -> int:
    use_lambda_code()
    from tools.sample_events import EVENTS_DIR, ORDER_ID, samples

    EVENTS_DIR.mkdir(exist_ok=True)
    written = samples()
    for name, content in written.items():
        (EVENTS_DIR / name).write_text(json.dumps(content, indent=2) + "\n")
    print(f"wrote {len(written)} sample events to events/ (order {ORDER_ID})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
