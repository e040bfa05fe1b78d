"""The `voluntary-returns` command: run once, serve nightly, or query the published file."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from flows import local_server, places, query
from flows.settings import ENV_PREFIX, PROJECT_DIR, Settings, SettingsError

if TYPE_CHECKING:
    from flows.report.run_report import RunReport

# How long the run's last log lines and events may take to reach its Prefect server: a busy
# machine sends thousands of warnings' lines slowly, and the server stops right after.
DRAIN_SECONDS = 120
# What `--help` says of the exit status and the variables of each command.
EXIT_STATUS = """exit status:
  0  published (warnings allowed), or nothing changed
  1  a file was rejected, or nothing was published (a check failed, no bulletin passed)
  2  bad usage, or a place the run cannot use (a missing or unwritable folder, a full disk,
     PREFECT_HOME not writable, a Prefect server that does not start)"""
SERVE_STATUS = """exit status:
  0  stopped by Ctrl-C or SIGTERM
  2  bad usage, or a place it cannot use (PREFECT_HOME, a Prefect server that does not start)"""
SQL_STATUS = """exit status:
  0  every statement ran
  1  the warehouse cannot be read, or a statement failed
  2  bad usage"""
REPORT_STATUS = """exit status:
  0  the report was written
  1  no published warehouse, one this version cannot read, or an unwritable output folder
  2  bad usage"""
PREFECT_VARIABLES = {
    "PREFECT_HOME": "Prefect's state (default .prefect/ in the project)",
    "PREFECT_API_URL": "a Prefect server to use instead of a local one",
}


def variables_help() -> str:
    """The variables of the settings and of Prefect, with their defaults, for `--help`."""
    described = {
        ENV_PREFIX + name.upper(): "default "
        + str(value.relative_to(PROJECT_DIR) if isinstance(value, Path) else value or "none")
        for name, value in Settings().__dict__.items()
    } | PREFECT_VARIABLES
    width = max(map(len, described))
    return "variables:\n" + "\n".join(
        f"  {name:<{width}}  {text}" for name, text in described.items()
    )


def prefect_environment() -> Path:
    """Keep Prefect's state inside the project and its telemetry off, before it is imported;
    runs log at INFO (the UI's Logs tab). Returns PREFECT_HOME."""
    os.environ.setdefault("PREFECT_HOME", str(PROJECT_DIR / ".prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    return Path(os.environ["PREFECT_HOME"])


def quiet_run_logs() -> None:
    """Keep the log lines of flow and task runs off the terminal: they still reach the API,
    and the run summary says it all. Prefect configures its loggers when it is imported."""
    import prefect  # noqa: F401

    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).propagate = False


@contextmanager
def prefect_api(meanwhile: Callable[[], object] = lambda: None) -> Iterator[None]:
    """The API a run reports to: PREFECT_API_URL's, or a local server that lives as long as the
    run (and dies with it, even on `kill -9`); `meanwhile` is called while it starts."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    if get_current_settings().api.url:
        meanwhile()
        yield
        return
    local = local_server.running(ui=False, meanwhile=meanwhile)
    with local as api_url, temporary_settings({PREFECT_API_URL: api_url}):
        try:
            yield
        finally:
            # The run's last log lines and events reach the server before it stops.
            _, unsent = APILogWorker.drain_all(timeout=DRAIN_SECONDS)
            EventsWorker.drain_all(timeout=DRAIN_SECONDS)
            if unsent:
                give_up_sending_logs()


def give_up_sending_logs() -> None:
    """Say in one line that the UI misses the run's last log lines, and keep Prefect quiet."""
    print(
        f"the Prefect server did not take the run's last log lines within {DRAIN_SECONDS} s:"
        " its UI may miss them (the run summary below has them all)",
        file=sys.stderr,
    )
    # Prefect's log worker writes "--- Error logging to API ---" for every batch it still
    # holds once the server has stopped; the standard library's switch is the one it honours.
    logging.raiseExceptions = False


def run(args: argparse.Namespace) -> int:
    """One run now, against a local Prefect server of its own (or PREFECT_API_URL's)."""
    settings = Settings.load(
        raw_dir=args.raw_dir, warehouse=args.warehouse, expectations_dir=args.expectations
    )
    prefect_home = prefect_environment()
    if problem := places.problem(settings, prefect_home):
        return fail(problem)
    from flows import unchanged
    from flows.quality.gate import SuitesError, read_suites

    try:
        read_suites(settings.expectations_dir)
    except SuitesError as error:
        return fail(f"{error}; give --expectations a folder of suites, or leave it out")
    signal.signal(signal.SIGTERM, interrupt)
    try:
        # Unchanged inputs need no flow run: answered before Prefect is imported.
        report = unchanged.answer(settings) or flow_run(settings)
    except KeyboardInterrupt:
        return fail("interrupted: nothing was published", status=130)
    except local_server.ServerError as error:
        return fail(f"{error}: nothing was published")
    except Exception as error:
        if (line := places.explain(error)) is None:
            raise
        return fail(line)
    print(report.terminal())
    return report.exit_code


def flow_run(settings: Settings) -> RunReport:
    """The nightly flow, run now against the run's own Prefect API."""
    quiet_run_logs()
    # The flow's modules and Great Expectations (seconds of CPU) load while the server starts.
    with prefect_api(meanwhile=load_flow):
        from flows.nightly import nightly

        return nightly(
            raw_dir=str(settings.raw_dir),
            warehouse=str(settings.warehouse),
            expectations_dir=str(settings.expectations_dir),
        )


def load_flow() -> None:
    """Import the nightly flow and what its checks use."""
    from flows.nightly import nightly  # noqa: F401
    from flows.quality.gate import great_expectations

    great_expectations()


def fail(line: str, status: int = 2) -> int:
    """Say why in one line, on standard error; the exit status."""
    print(line, file=sys.stderr, flush=True)
    return status


def serve(args: argparse.Namespace) -> int:
    """Stay up and run nightly; start a local Prefect server unless PREFECT_API_URL names one."""
    # Handlers first: a signal while the server starts stops it too, without a traceback.
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    prefect_home = prefect_environment()
    settings = Settings.load(
        raw_dir=args.raw_dir, warehouse=args.warehouse, schedule=args.cron, timezone=args.timezone
    )
    if reason := places.unwritable(prefect_home):
        return fail(
            f"cannot write Prefect's state folder {prefect_home} ({reason}):"
            " set PREFECT_HOME to a folder you can write"
        )
    from prefect.schedules import Cron

    try:
        schedule = Cron(settings.schedule, timezone=settings.timezone)
    except ValueError:
        return fail(
            f"'{settings.schedule}' is not a cron schedule (--cron or {ENV_PREFIX}SCHEDULE):"
            " give five fields, such as '0 2 * * *'"
        )
    server = None
    try:
        if not os.environ.get("PREFECT_API_URL"):
            server, url = local_server.start(args.port)
            os.environ["PREFECT_API_URL"] = f"{url}/api"
            print(f"Prefect UI: {url} (state in {prefect_home})", flush=True)
        from prefect.settings import PREFECT_API_URL, temporary_settings

        from flows.nightly import nightly

        print(f"Serving the nightly run: '{settings.schedule}' ({settings.timezone})", flush=True)
        # Prefect read its settings when the schedule was checked: the server's address is
        # handed to it here as well as to the flow runs' processes through the environment.
        with temporary_settings({PREFECT_API_URL: os.environ["PREFECT_API_URL"]}):
            nightly.serve(
                name="nightly",
                schedules=[schedule],
                parameters={
                    "raw_dir": str(settings.raw_dir),
                    "warehouse": str(settings.warehouse),
                },
                limit=1,
                global_limit=1,
                print_starting_message=False,
            )
    except KeyboardInterrupt:
        pass
    except local_server.ServerError as error:
        return fail(str(error))
    finally:
        # A second signal while stopping must not interrupt the stop.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
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

    from flows.quality.freshness import FreshnessLimits
    from flows.report.html import write_report

    settings = Settings.load(warehouse=args.warehouse)
    output = Path(args.output) if args.output else settings.report_dir
    if not settings.warehouse.is_file():
        print(f"no published warehouse at {settings.warehouse}: run `voluntary-returns run` first")
        return 1
    try:
        if args.output:
            page = write_report(settings.warehouse, output, limits=FreshnessLimits.of(settings))
        else:  # the published report is a member of the published state: put in place as one
            page = republish_report(settings)
    except duckdb.Error as error:
        reason = str(error).splitlines()[0]
        print(f"{settings.warehouse} is not a warehouse this version can read: {reason}")
        return 1
    except OSError as error:
        print(f"cannot write the report into {output}: {error.strerror}")
        return 1
    print(f"Report: {page.as_uri()}")
    return 0


def republish_report(settings: Settings) -> Path:
    """Write the published report again, put in place the way a run publishes it; its page."""
    import uuid

    from flows import pipeline
    from flows.publish import publish
    from flows.quality.freshness import FreshnessLimits

    limits = FreshnessLimits.of(settings)
    with publish.run_lock(settings.warehouse):
        pipeline.republish(
            settings.warehouse, f"report-{uuid.uuid4().hex[:6]}", ("report",), limits=limits
        )
    return settings.data_dir / pipeline.REPORT_PAGE


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(
        prog="voluntary-returns",
        description="Warehouse of Fedasil's voluntary-return bulletins.",
        epilog=f"{EXIT_STATUS}\n\n{variables_help()}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=version("voluntary-returns"))
    commands = parser.add_subparsers(dest="command", required=True)
    described = {"formatter_class": argparse.RawDescriptionHelpFormatter}
    run_parser = commands.add_parser(
        "run", help="load data/raw and publish the warehouse once",
        epilog=f"{EXIT_STATUS}\n\n{variables_help()}", **described,
    )  # fmt: skip
    run_parser.add_argument("--raw-dir", help="folder of bulletins (default data/raw)")
    run_parser.add_argument("--warehouse", help="published file (default data/warehouse.duckdb)")
    run_parser.add_argument("--expectations", help="folder of suites (default expectations/)")
    run_parser.set_defaults(handler=run)
    serve_parser = commands.add_parser(
        "serve", help="stay up and run nightly on a schedule",
        epilog=f"{SERVE_STATUS}\n\n{variables_help()}", **described,
    )  # fmt: skip
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
        " Every statement's result is printed, a blank line between them.",
        epilog=f"{SQL_STATUS}\n\n{variables_help()}",
        **described,
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
    report_parser = commands.add_parser(
        "report", help="write the HTML report of the warehouse",
        epilog=f"{REPORT_STATUS}\n\n{variables_help()}", **described,
    )  # fmt: skip
    report_parser.add_argument("--warehouse", help="published file (default data/warehouse.duckdb)")
    report_parser.add_argument("--output", help="folder of index.html (default data/report)")
    report_parser.set_defaults(handler=report)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except SettingsError as error:
        return fail(str(error))


if __name__ == "__main__":
    sys.exit(main())
