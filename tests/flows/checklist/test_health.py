"""Which lines of a kube-proxy log are errors worth showing as evidence."""

from __future__ import annotations

from flows.checklist.health import error_lines

KUBE_PROXY_LOG = """\
I1125 17:08:30.000000       1 proxier.go:805] "Syncing iptables rules"
E1125 17:08:30.020000       1 proxier.go:1525] "Failed to execute iptables-restore" err="exit 1"
I1125 17:08:30.021000       1 proxier.go:1528] "Sync failed" retryingTime="1s"
E1125 17:08:33.000000       1 run.go:74] "command failed" err="failed to sync proxy rules"
"""


def test_error_lines_are_klog_errors_and_plain_errors_only() -> None:
    assert error_lines(KUBE_PROXY_LOG) == (
        'E1125 17:08:30.020000       1 proxier.go:1525] "Failed to execute iptables-restore" '
        'err="exit 1"',
        'E1125 17:08:33.000000       1 run.go:74] "command failed" '
        'err="failed to sync proxy rules"',
    )
    assert error_lines("exec /usr/local/bin/kube-proxy: exec format error\nok") == (
        "exec /usr/local/bin/kube-proxy: exec format error",
    )


def test_error_lines_keep_the_latest_few() -> None:
    log = "\n".join(f"E1125 17:08:{i:02d}.000000 1 x.go:1] failure {i}" for i in range(9))

    assert [line[-9:] for line in error_lines(log, limit=3)] == [
        "failure 6",
        "failure 7",
        "failure 8",
    ]
