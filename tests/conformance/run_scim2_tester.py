"""Run scim2-tester (python-scim) against a SCIM base URL and fail on any failed check.

Usage: run_scim2_tester.py BASE_URL TOKEN

Prints one line per check and a closing line "N passed, N failed"; exits 1 when a check failed or errored.
"""

import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server
from scim2_tester.utils import Status


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    base_url, token = sys.argv[1], sys.argv[2]
    http = Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    client = SyncSCIMClient(http)
    results = check_server(client)
    passed = failed = skipped = deviations = 0
    for result in results:
        status = result.status
        if status in (Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE):
            passed += 1
        elif status == Status.DEVIATION:
            passed += 1
            deviations += 1
        elif status == Status.SKIPPED:
            skipped += 1
        else:
            failed += 1
        reason = f" -- {result.reason}" if result.reason and status != Status.SUCCESS else ""
        print(f"[{status.name}] {result.title}{reason}")
    print(f"scim2-tester deviations from SHOULDs: {deviations}")
    print(f"scim2-tester: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
