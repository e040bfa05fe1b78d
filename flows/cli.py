"""The `voluntary-returns` command: run once, serve nightly, or query the published file."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from flows import local_server
from flows.settings import PROJECT_DIR, Settings


def prefect_environment() -> None:
    """Keep Prefect's state inside the project and its telemetry off, before it is imported."""
    os.environ.setdefault("PREFECT_HOME", str(PROJECT_DIR / ".prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")


def run(args: argparse.Namespace) -> int:
    """One run now, on the embedded default (a temporary local Prefect API)."""
    raw_dir = Settings.load(raw_dir=args.raw_dir).raw_dir
    if not raw_dir.is_dir():
        print(f"no raw folder at {raw_dir}: give --raw-dir, or put bulletins in data/raw")
        return 2
    prefect_environment()
    from flows.nightly import nightly

    report = nightly(
        raw_dir=args.raw_dir, warehouse=args.warehouse, expectations_dir=args.expectations
    )
    print(report.markdown())
    return report.exit_code


def serve(args: argparse.Namespace) -> int:
    """Stay up and run nightly; start a local Prefect server unless PREFECT_API_URL names one."""
    prefect_environment()
    settings = Settings.load(
        raw_dir=args.raw_dir, warehouse=args.warehouse, schedule=args.cron, timezone=args.timezone
    )
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        server, url = local_server.start(args.port)
        os.environ["PREFECT_API_URL"] = f"{url}/api"
        print(f"Prefect UI: {url} (state in {os.environ['PREFECT_HOME']})", flush=True)
    # SIGTERM (a service manager stopping us) ends the process like Ctrl-C does.
    signal.signal(signal.SIGTERM, interrupt)
    try:
        from prefect.schedules import Cron

        from flows.nightly import nightly

        print(f"Serving the nightly run: '{settings.schedule}' ({settings.timezone})", flush=True)
        nightly.serve(
            name="nightly",
            schedules=[Cron(settings.schedule, timezone=settings.timezone)],
            parameters={"raw_dir": str(settings.raw_dir), "warehouse": str(settings.warehouse)},
            limit=1,
            global_limit=1,
            print_starting_message=False,
        )
    except KeyboardInterrupt:
        pass
    finally:
        if server:
            local_server.stop(server)
    print("Stopped.", flush=True)
    return 0


def interrupt(*_: object) -> None:
    """A signal handler that stops the process as Ctrl-C does."""
    raise KeyboardInterrupt


def sql(args: argparse.Namespace) -> int:
    """Run one query on the published file, read-only, and print the result as a table."""
    import duckdb

    path = Settings.load(warehouse=args.warehouse).warehouse
    if not path.exists():
        print(f"no published warehouse at {path}: run `voluntary-returns run` first")
        return 1
    con = duckdb.connect(str(path), read_only=True)
    try:
        relation = con.sql(args.query)
        if relation is None:
            return 0
        relation.show(max_rows=args.max_rows, max_width=args.max_width)
    except duckdb.Error as error:
        print(f"query failed: {error}", file=sys.stderr)
        return 1
    finally:
        con.close()
    return 0


def report(args: argparse.Namespace) -> int:
    """Write the HTML report of the published file, read-only, and print its path."""
    import duckdb

    from flows.report.html import write_report

    settings = Settings.load(warehouse=args.warehouse)
    output = Path(args.output) if args.output else settings.report_dir
    if not settings.warehouse.is_file():
        print(f"no published warehouse at {settings.warehouse}: run `voluntary-returns run` first")
        return 1
    try:
        page = write_report(settings.warehouse, output)
    except duckdb.Error as error:
        reason = str(error).splitlines()[0]
        print(f"{settings.warehouse} is not a warehouse this version can read: {reason}")
        return 1
    except OSError as error:
        print(f"cannot write the report into {output}: {error.strerror}")
        return 1
    print(f"Report: {page.as_uri()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(
        prog="voluntary-returns", description="Warehouse of Fedasil's voluntary-return bulletins."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="load data/raw and publish the warehouse once")
    run_parser.add_argument("--raw-dir", help="folder of bulletins (default data/raw)")
    run_parser.add_argument("--warehouse", help="published file (default data/warehouse.duckdb)")
    run_parser.add_argument("--expectations", help="folder of suites (default expectations/)")
    run_parser.set_defaults(handler=run)
    serve_parser = commands.add_parser("serve", help="stay up and run nightly on a schedule")
    serve_parser.add_argument("--raw-dir", help="folder of bulletins (default data/raw)")
    serve_parser.add_argument("--warehouse", help="published file (default data/warehouse.duckdb)")
    serve_parser.add_argument("--cron", help="schedule (default '0 2 * * *')")
    serve_parser.add_argument("--timezone", help="of the schedule (default Europe/Brussels)")
    serve_parser.add_argument(
        "--port", type=int, default=0, help="local server port (default: free)"
    )
    serve_parser.set_defaults(handler=serve)
    sql_parser = commands.add_parser("sql", help="query the published warehouse, read-only")
    sql_parser.add_argument("query", help='a SQL query, e.g. "select * from marts.annual_returns"')
    sql_parser.add_argument("--warehouse", help="published file (default data/warehouse.duckdb)")
    sql_parser.add_argument("--max-rows", type=int, default=100, help="rows to print at most")
    sql_parser.add_argument("--max-width", type=int, default=160, help="characters per line")
    sql_parser.set_defaults(handler=sql)
    report_parser = commands.add_parser("report", help="write the HTML report of the warehouse")
    report_parser.add_argument("--warehouse", help="published file (default data/warehouse.duckdb)")
    report_parser.add_argument("--output", help="folder of index.html (default data/report)")
    report_parser.set_defaults(handler=report)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
