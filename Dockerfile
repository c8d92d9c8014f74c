# tokencensus in a container: the CLI, with Java 17 for the Spark backend (docs/container.md).
#
#   docker build -t tokencensus .
#   docker run --rm -v "$PWD/work:/data" tokencensus demo --demo-out /data/demo
#
# Build arguments:
#   EXTRAS  the extras installed with the project (pyproject's [project.optional-dependencies]);
#           default "spark". "spark,datasets" adds the chat-dataset tokenizer; "all" adds the
#           embedding extra too, with a CPU-only torch (a few GB instead of many with CUDA's).
#           Empty: the core package (DuckDB only).
#   UID, GID  the numeric user and group the image runs as; set them to yours (`id -u`, `id -g`)
#           so that what it writes to a mounted directory is yours.
#   TORCH_INDEX_URL  where the CPU-only torch wheel comes from (only when EXTRAS needs torch).
#
# Everything is installed at build time; nothing is downloaded when the container runs.

# Debian 12 (bookworm), pinned: the last Debian release that ships OpenJDK 17 (13, trixie, has 21
# and later only), and pyspark 4.0 runs on Java 17. Python 3.11: pyproject's requires-python floor.
FROM python:3.11-slim-bookworm

ARG EXTRAS=spark
ARG UID=10001
ARG GID=10001
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Java 17 (a headless runtime: the local Spark driver needs no JDK). Slim images drop
# /usr/share/man, where the JRE's postinst links its man pages. JAVA_HOME through a symlink because
# Debian names the directory by architecture (java-17-openjdk-amd64, -arm64). Not version-pinned:
# bookworm's security updates replace the JRE's version, and a pin would then fail the build.
# hadolint ignore=DL3008
RUN mkdir -p /usr/share/man/man1 \
    && apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/* \
    && ln -s "$(dirname "$(dirname "$(readlink -f /usr/bin/java)")")" /usr/lib/jvm/java-17
ENV JAVA_HOME=/usr/lib/jvm/java-17

# The project from this source tree (.dockerignore lets only these in). torch, when the extras need
# it, comes first from the CPU index at pyproject's own pin, so that pip does not pull CUDA's.
COPY pyproject.toml README.md LICENSE /tmp/tokencensus/
COPY src /tmp/tokencensus/src
# The versions are pyproject's own (hadolint's DL3013 would have them repeated here).
# hadolint ignore=DL3013
RUN set -eu; \
    case ",$EXTRAS," in \
    *,all,* | *,embedding,* | *,test,*) \
        torch="$(python -c 'import tomllib; extras = tomllib.load(open("/tmp/tokencensus/pyproject.toml", "rb"))["project"]["optional-dependencies"]; print(next(r for r in extras["embedding"] if r.startswith("torch")))')"; \
        pip install --index-url "$TORCH_INDEX_URL" "$torch" ;; \
    esac; \
    if [ -n "$EXTRAS" ]; then pip install "/tmp/tokencensus[$EXTRAS]"; else pip install /tmp/tokencensus; fi; \
    rm -rf /tmp/tokencensus; \
    java -version; \
    tokencensus --version

# A user of its own (never root), named (Spark needs the user to have a name) and given by number
# (so that Kubernetes' runAsNonRoot can check it); /data is where logs, lakes and reports are mounted.
RUN groupadd --non-unique --gid "$GID" tokencensus \
    && useradd --non-unique --uid "$UID" --gid "$GID" --create-home --shell /usr/sbin/nologin tokencensus \
    && mkdir /data \
    && chown tokencensus:tokencensus /data
USER ${UID}:${GID}
WORKDIR /data

# The report's Vega bundle, built once into the user's cache (~1.5 s saved on every report).
RUN python -c "from tokencensus.report.render import javascript_bundle; javascript_bundle()"

ENTRYPOINT ["tokencensus"]
CMD ["--help"]
