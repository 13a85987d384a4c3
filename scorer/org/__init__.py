"""The org report: many repositories' JSON reports, read one at a time from files,
directories, zips or GitHub artifacts (``sources``), merged into one (``merge``). Its formats
are ``scorer.formats.org_markdown`` and ``org_html``."""
