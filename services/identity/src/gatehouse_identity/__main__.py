import sys

from gatehouse_platform.cli import service_main

from gatehouse_identity.config import IdentitySettings


def main() -> int:
    return service_main(IdentitySettings, "gatehouse_identity.app:create_app", schema="identity")


if __name__ == "__main__":
    sys.exit(main())
