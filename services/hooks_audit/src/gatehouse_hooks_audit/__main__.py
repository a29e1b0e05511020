import sys

from gatehouse_platform.cli import service_main

from gatehouse_hooks_audit.config import HooksAuditSettings


def main() -> int:
    return service_main(HooksAuditSettings, "gatehouse_hooks_audit.app:create_app", schema="audit")


if __name__ == "__main__":
    sys.exit(main())
