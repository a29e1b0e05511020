import sys

from gatehouse_platform.cli import service_main

from gatehouse_experience.config import ExperienceSettings


def main() -> int:
    return service_main(ExperienceSettings, "gatehouse_experience.app:create_app", schema="experience")


if __name__ == "__main__":
    sys.exit(main())
