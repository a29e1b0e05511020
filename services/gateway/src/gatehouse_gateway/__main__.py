import sys

from gatehouse_platform.cli import service_main

from gatehouse_gateway.config import GatewaySettings


def main() -> int:
    return service_main(GatewaySettings, "gatehouse_gateway.app:create_app", schema=None, interface="rsgi")


if __name__ == "__main__":
    sys.exit(main())
