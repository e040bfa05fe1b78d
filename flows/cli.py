"""The `voluntary-returns` command: run once, serve nightly, or query the published file."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from flows import local_server, query
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
    settings = Settings.load(raw_dir=args.raw_dir, expectations_dir=args.expectations)
    raw_dir = settings.raw_dir
    if not raw_dir.is_dir():
        print(f"no raw folder at {raw_dir}: give --raw-dir, or put bulletins in data/raw")
        return 2
    from flows.quality.gate import SuitesError, read_suites

    try:
        read_suites(settings.expectations_dir)
    except SuitesError as error:
        print(f"{error}; give --expectations a folder of suites, or leave it out")
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
    """Run a query on the published file through a sealed connection and print every result."""
    if args.query is not None and args.file is not None:
        print("give the query as an argument or with --file, not both", file=sys.stderr)
        return 2
    source = args.file if args.file is not None else args.query
    try:
        if source == "-":
            text = sys.stdin.read()
        elif args.file is not None:
            text = Path(args.file).read_text(encoding="utf-8")
        else:
            text = args.query or ""
    except (OSError, UnicodeDecodeError) as error:
        print(f"cannot read the query from {source}: {error}", file=sys.stderr)
        return 2
    if not text.strip():
        print(
            "no query: give one as an argument, with --file, or on standard input (-)",
            file=sys.stderr,
        )
        return 2
    path = Settings.load(warehouse=args.warehouse).warehouse
    try:
        query.run(path, text, args.format, args.max_rows)
    except query.QueryFailed as error:
        print(error, file=sys.stderr)
        return 1
    except query.NoStatement as error:
        print(error, file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader (`| head`) stopped reading: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python flushes stdout at exit
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
        if args.output:
            page = write_report(settings.warehouse, output)
        else:  # the published report is a member of the published state: put in place as one
            page = republish_report(settings.warehouse)
    except duckdb.Error as error:
        reason = str(error).splitlines()[0]
        print(f"{settings.warehouse} is not a warehouse this version can read: {reason}")
        return 1
    except OSError as error:
        print(f"cannot write the report into {output}: {error.strerror}")
        return 1
    print(f"Report: {page.as_uri()}")
    return 0


def republish_report(warehouse: Path) -> Path:
    """Write the published report again, put in place the way a run publishes it; its page."""
    import uuid

    from flows import pipeline
    from flows.publish import publish

    with publish.run_lock(warehouse):
        pipeline.republish(warehouse, f"report-{uuid.uuid4().hex[:6]}", ("report",))
    return warehouse.parent / pipeline.REPORT_PAGE


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
    sql_parser = commands.add_parser(
        "sql",
        help="query the published warehouse (read-only, sealed)",
        description="Query the published warehouse: it is opened read-only, and no statement can"
        " read or write another file, reach the network, load an extension or change a setting."
        " Every statement's result is printed, a blank line between them. Exit status: 0 done,"
        " 1 the warehouse cannot be read or a statement failed, 2 bad usage.",
    )
    sql_parser.add_argument(
        "query", nargs="?", help='SQL, e.g. "select * from marts.annual_returns"; - reads stdin'
    )
    sql_parser.add_argument("--file", help="read the SQL from this file (- for standard input)")
    sql_parser.add_argument("--warehouse", help="published file (default data/warehouse.duckdb)")
    sql_parser.add_argument("--format", choices=query.FORMATS, default="table")
    sql_parser.add_argument(
        "--max-rows", type=int, default=100, help="rows of a table or markdown result (0: all)"
    )
    sql_parser.set_defaults(handler=sql)
    report_parser = commands.add_parser("report", help="write the HTML report of the warehouse")
    report_parser.add_argument("--warehouse", help="published file (default data/warehouse.duckdb)")
    report_parser.add_argument("--output", help="folder of index.html (default data/report)")
    report_parser.set_defaults(handler=report)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
