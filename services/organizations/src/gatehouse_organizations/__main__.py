import sys

from gatehouse_platform.cli import service_main

from gatehouse_organizations.config import OrganizationsSettings


def main() -> int:
    return service_main(OrganizationsSettings, "gatehouse_organizations.app:create_app", schema="organizations")


if __name__ == "__main__":
    sys.exit(main())
