"""missing-dependency: a module, package, class or shared library is not in the image.

Signals: Python ModuleNotFoundError / "No module named" / "cannot import name" /
DistributionNotFound / uvicorn "Could not import module"; shared libraries "error while loading shared libraries: libx.so" / "cannot
open shared object file"; Node "Cannot find module 'x'" / ERR_MODULE_NOT_FOUND "Cannot find
package"; Java ClassNotFoundException / NoClassDefFoundError / "Could not find or load main
class"; Ruby LoadError "cannot load such file" / Bundler GemNotFound / "X is not part of the
bundle"; PHP "Failed opening
required" / "Class ... not found"; .NET "Could not load file or assembly" / "The framework ...
was not found"; Elixir "module X is not available". Facts: module, language, container.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns.base import (
    Explanation,
    Facts,
    Match,
    Pattern,
    Stage,
    candidate_lines,
    container_for_line,
    log_proof,
)
from shared.scan import lazy_re

# A search reads a name from each of its starts; from a start inside a long run (16 KB of "a.a.a..." or ".so.so...")
# each read went to the run's end again: seconds. So a name that is a run of characters starts at a run's start, or,
# when it must begin with a word ("lib", a letter), at the first such word of its run (the runs' other starts end it at
# the same place, so the first is the one a search finds); `_TO_LIB` skips the part of the run before that word.
# Spelled this way the search finds the same names in one pass.
_TO_LIB = r"(?<![\w.+-])(?:(?:(?!lib)\w++)?[.+-])*+"
# `[\w.+-]+\.so[\w.]*` before ": cannot open": a ".so" after the run's last "+" or "-" (or, with none, after its first
# character), then the rest of the run; one pass where backtracking tried each ".so" with a pass to the run's end.
_SO_NAME = r"(?:(?>[\w.+-]*[+-])(?=[\w.]*?\.so)|(?![\w.+-]*[+-])(?=[\w.]+?\.so))[\w.]*+"
_RULES: list[tuple[str, re.Pattern[str]]] = [  # (language, regex); "" when any runtime says it
    ("python", lazy_re(r"ModuleNotFoundError: No module named '([\w.]+)'")),
    ("python", lazy_re(r"ImportError: No module named '?([\w.]+)'?")),
    ("python", lazy_re(r"ImportError: cannot import name '(\w+)' from '([\w.]+)'")),
    ("python", lazy_re(r"DistributionNotFound: The '([^']+)' distribution was not found")),
    ("python", lazy_re(r"Error loading ASGI app\. Could not import module \"([\w.]+)\"")),  # uvicorn
    # Celery's CLI when the app's import chain lacks a module: "Unable to load celery application." then
    # "The module <name> was not found." (the name alone, no quotes)
    ("python", lazy_re(r"\bThe module ([A-Za-z_][\w.]*) was not found\.?\s*$")),
    ("python", lazy_re(r"PackageNotFoundError: (?:No package metadata was found for )?([\w.-]+)")),
    ("native", lazy_re(r"error while loading shared libraries: ([\w.+-]+\.so[\w.]*)")),
    # (a "dlopen" reads up to the next ":" or "dlopen" only: the next one reads on from there, to the same name)
    ("native", lazy_re(r"(?:ImportError|OSError|Error|dlopen(?:(?!dlopen)[^:])*+): (" + _SO_NAME
                       + r"): cannot open shared object file")),
    ("native", lazy_re(_TO_LIB + r"\b(lib" + _SO_NAME + r"): cannot open shared object file")),
    ("native", lazy_re(r"cannot load library '([^']+)'")),
    ("native", lazy_re(r"Error loading shared library ([\w.+-]+\.so[\w.]*)")),
    ("native", lazy_re(r"version `((?:GLIBC|GLIBCXX|CXXABI)_[\d.]+)' not found \(required by")),
    ("native", lazy_re(_TO_LIB + r"\b(lib[\w.+-]++): cannot open shared object file")),
    ("java", lazy_re(r"(?:Failed to load|Cannot load|Unable to load) driver class:? ([\w.$]+)")),
    ("node", lazy_re(r"could not locate the Query Engine for runtime \"([^\"]+)\"")),
    ("node", lazy_re(r"Cannot find (?:module|package) '([^']+)'")),
    ("node", lazy_re(r"ERR_MODULE_NOT_FOUND(?:(?!ERR_MODULE_NOT_FOUND).)*?'([^']+)'")),  # (the same: to the next one)
    ("java", lazy_re(r"java\.lang\.ClassNotFoundException: ([\w.$]+)")),
    ("java", lazy_re(r"java\.lang\.NoClassDefFoundError: ([\w/.$]+)")),
    ("java", lazy_re(r"Could not find or load main class ([\w.$]+)")),
    ("java", lazy_re(r"class '([\w.$]+)' (?:can ?not|could not) be found in the classpath", re.IGNORECASE)),
    ("java", lazy_re(r"(?<![\w.$])([\w.$]++) (?:was )?not found (?:in|on) the classpath", re.IGNORECASE)),
    ("ruby", lazy_re(r"cannot load such file -- ([\w/.+-]+)")),
    ("ruby", lazy_re(r"Could not find gem '([^']+)'")),
    ("ruby", lazy_re(r"bundler: command not found: ([\w.-]+)")),
    # "Could not find nokogiri-1.18.3-x86_64-linux in locally installed gems": name, version, platform
    ("ruby", lazy_re(r"Could not find ([A-Za-z][\w.+]*(?:-[A-Za-z_][\w+]*)*)-(\d[\w.]*)(?:-([\w-]+))? in "
                        r"(?:any of the sources|locally installed gems)")),
    ("ruby", lazy_re(r"GemNotFound: Could not find ([\w.+-]+) in")),
    # Bundler refusing a require of a gem the Gemfile lacks (Gem::LoadError), e.g. under Rails' "Error loading
    # the 'postgresql' Active Record adapter. Missing a gem it depends on? pg is not part of the bundle."
    # (from the first word of its run that begins with a letter, as `_TO_LIB` does)
    ("ruby", lazy_re(r"(?<![\w.-])(?:(?:(?![A-Za-z])\w++)?[.-])*+\b([A-Za-z][\w.-]*+) is not part of the bundle\b")),
    ("php", lazy_re(r"Failed opening required '([^']+)'")),
    ("php", lazy_re(r"Class [\"']([\w\\]+)[\"'] not found")),
    ("dotnet", lazy_re(r"Could not load file or assembly '([^',]+)")),
    ("dotnet", lazy_re(r"The framework '([^']+)', version '([^']+)'(?: \(\w+\))? was not found")),
    ("dotnet", lazy_re(r"You must install or update \.NET to run this application")),
    ("elixir", lazy_re(r"module ([\w.]+) is not available")),
    ("go", lazy_re(r"plugin\.Open\(\"([^\"]+)\"\)")),
    # An ORM or tool that loads its driver at run time and says which to add: "To connect to Postgres
    # database - please install either of 'pg', 'postgres' ... drivers" (drizzle), "Please install pg
    # package manually" (sequelize). The first name is the one to install; any runtime.
    ("", lazy_re(r"(?i:please install|you (?:must|need to) install) (?i:either of |one of |the )?[`'\"]?([@\w./-]+)"
                    r"[`'\"]?(?:,? (?:or )?[`'\"][@\w./-]+[`'\"])*[^.\n]{0,60}?\b(?i:drivers?|packages?|modules?)\b")),
]
_NEEDLES = ("no module named", "could not import module", "cannot import name", "distributionnotfound", "packagenotfounderror",
            "shared librar", "shared object", "cannot find module", "cannot find package", "err_module_not_found",
            "classnotfound", "noclassdeffound", "main class", "cannot load such file", "could not find gem",
            "gemnotfound", "could not find", "failed opening required", "not found", "load file or assembly",
            "framework '", "install or update .net", "is not available", "plugin.open", "cannot load library",
            "driver class", "query engine", "bundler: command not found", "classpath",
            "error loading shared library", "not part of the bundle", "please install", "need to install", "must install")
_BENIGN = lazy_re(r"optional|fall(?:ing)? ?back|skipping|not installed, |using pure|will not be available|recommend"
                     r"|for (?:better|faster|improved)\b|to (?:enable|improve|speed up)\b",
                     re.IGNORECASE)



# The dynamic loader names the program it was loading: "/opt/tool/bin/tool: error while loading shared libraries".
_LOADER_BINARY = lazy_re(r"(?:^|\s)(/[\w.+/-]+): error while loading shared libraries:")
# Path parts that say where a program lives, not which program it is.
_PATH_WORDS = frozenset({"", "usr", "local", "bin", "sbin", "lib", "lib64", "opt", "app", "dist", "libexec", "home",
                         "root", "srv", "current", "v1", "v2", "mnt", "share", "tools", "data"})


# A tool directory a task mounts into a container: /opt/<tool>/.../bin/<program> (or under /mnt, /host, /tools...).
_TOOL_DIR = lazy_re(r"^/(?:opt|mnt|host|tools?|shared|efs|scratch)/(?P<tool>[\w.+-]+)/(?:[\w.+-]+/)*bin/[^/]+$")
# Directories that images themselves ship runtimes and vendor trees in (a JDK, Bitnami's stack, conda, a venv).
_VENDOR_DIR = lazy_re(r"(?i)/(?:java|jdk[\w.-]*|jre[\w.-]*|openjdk[\w.-]*|graalvm[\w.-]*|bitnami|conda|"
                         r"(?:mini|ana)conda\w*|mamba\w*|venv|\.venv|python[\d.]*|node(?:js)?|ruby[\d.]*|go|"
                         r"dotnet|pyenv|rbenv|nvm|homebrew|rh)(?:/|$)")


def _foreign_binary(binary: str, ref: str, ev: Evidence) -> bool:
    """True when the program the loader failed on can be a tool mounted into the container from the host
    (/opt/aws-cli/bin/aws in a fastqc image on AWS Batch): only on EC2 (Fargate has no host volumes), only for a
    tool directory outside the image's standard and vendor paths (/usr/bin, /opt/java, /opt/bitnami, a runtime's own
    directory), and only when the path shares no name with the image."""
    if remedy.is_fargate(ev) or not ((ev.detail.launch_type or "").upper() in ("EC2", "EXTERNAL")
                                     or ev.detail.container_instance_arn or remedy.batch_cluster(ev)):
        return False
    tool = _TOOL_DIR.match(binary)
    if not tool or _VENDOR_DIR.search(binary):
        return False
    _, repo, _, _ = remedy.image_parts(ref)
    namespace = repo.lower().split("/")[:-1]
    if tool.group("tool").lower() in namespace:
        return False  # /opt/<vendor>/... in <vendor>/<image>: the image's own tree
    image_words = {w for w in re.split(r"[^a-z0-9]+", repo.rsplit("/", 1)[-1].lower()) if len(w) > 1}
    path_words = {w for part in binary.lower().split("/") if part not in _PATH_WORDS
                  for w in re.split(r"[^a-z0-9]+", part) if len(w) > 1}
    if not image_words or not path_words:
        return False
    return not any(a == b or (min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)))
                   for a in image_words for b in path_words)


# The .NET host's account of a framework it could not resolve: "Framework: 'Microsoft.NETCore.App', version
# '9.0.0' (x64)" (or the older "The framework '...', version '...' was not found"), then under "The following
# frameworks were found:" one "  7.0.20 at [/usr/share/dotnet/shared/Microsoft.NETCore.App]" line per install.
_DOTNET_WANTED = lazy_re(r"[Ff]ramework:? '([\w.]+)', version '(\d[\w.-]*)'")
_DOTNET_FOUND = lazy_re(r"^\s*(\d+\.\d+\.\d+[\w.-]*) at \[[^\]]*?([\w.]+)\]")


def _dotnet_frameworks(texts: Sequence[str], i: int, container: str | None,
                       containers: Sequence[str | None]) -> tuple[str | None, str | None]:
    """The framework (name and version) the app asks for and the versions of it installed, from the lines after
    the host's message (same container, the next 15 lines)."""
    wanted: tuple[str, str] | None = None
    found: list[str] = []
    for j in range(i, min(len(texts), i + 16)):
        if containers[j] != container:
            continue
        w = _DOTNET_WANTED.search(texts[j])
        if w and wanted is None:
            wanted = (w.group(1), w.group(2))
            continue
        g = _DOTNET_FOUND.match(texts[j])
        if g and (wanted is None or g.group(2) == wanted[0]) and g.group(1) not in found:
            found.append(g.group(1))
    return (f"{wanted[0]} {wanted[1]}" if wanted else None), (", ".join(found) or None)


# A path under npm's global prefix (/usr/local/lib, /usr/lib; node_modules/<pkg> when named), not under the app.
_GLOBAL_NODE = lazy_re(r"^/usr/(?:local/)?lib/(?:node_modules/(?P<pkg>(?:@[\w.-]+/)?[\w.-]+)/|(?!node_modules/))")

_SONAME = lazy_re(r"^(?P<name>lib[A-Za-z+_-]*?[A-Za-z+_-])(?P<ver>\d+(?:\.\d+)*)?\.so(?:\.(?P<major>\d+(?:\.\d+)*))?$")


# Well-known sonames whose Debian/Ubuntu package is not named after them (the soname rule would invent a name
# no archive has), and sonames whose package no rule can tell (None: only `apt-file search` finds it).
_KNOWN_SONAMES: dict[str, str | None] = {
    "libz.so.1": "zlib1g", "libGLU.so.1": "libglu1-mesa", "libgeos_c.so.1": "libgeos-c1v5",
    "libatspi.so.0": "libatspi2.0-0",
    # Red Hat's OpenSSL 1.0 builds: no Debian package ships these names.
    "libssl.so.10": None, "libcrypto.so.10": None,
}
# ICU's libraries ship together in one package per major version (libicuuc.so.72 -> libicu72).
_ICU = lazy_re(r"^libicu(?:uc|i18n|data|io|tu|test)\.so\.(?P<major>\d+)(?:\.\d+)*$")
# CUDA toolkit libraries come from NVIDIA's repository under names with the toolkit version (libcublas-11-8).
_CUDA_TOOLKIT = lazy_re(r"^lib(?:cublas(?:Lt)?|cudart|cufft|curand|cusolver|cusparse|nvrtc|nvToolsExt)\.so")
# glibc's own libraries: every glibc image has them (Debian's libc6), so their absence means the image is not
# glibc-based at all.
_GLIBC_SONAME = lazy_re(r"^lib(?:c|dl|m|pthread|rt|resolv|util|anl)\.so\.\d+$")


def _known_package(soname: str) -> tuple[bool, str | None]:
    """(known, package): whether the soname's package is known by name rather than by the soname rule."""
    if soname in _KNOWN_SONAMES:
        return True, _KNOWN_SONAMES[soname]
    if _GLIBC_SONAME.match(soname):
        return True, "libc6"
    icu = _ICU.match(soname)
    if icu:
        return True, f"libicu{icu.group('major')}"
    if _CUDA_TOOLKIT.match(soname):
        return True, None
    return False, None


def _debian_package(soname: str) -> str | None:
    """The Debian/Ubuntu package a shared library's soname usually ships in (libssl.so.1.1 -> libssl1.1,
    libpython2.7.so.1.0 -> libpython2.7, libGL.so.1 -> libgl1; libz.so.1 -> zlib1g from the table of known
    exceptions), or None when it cannot be told from the name."""
    known, pkg = _known_package(soname)
    if known:
        return pkg
    m = _SONAME.match(soname)
    if not m:
        return None
    name, ver, major = m.group("name"), m.group("ver"), m.group("major")
    if name == "libpython" and ver:
        return f"libpython{ver}"  # the interpreter's shared runtime; python{ver} depends on it
    if ver:
        return None  # a name ending in digits (libxml2.so.2 -> libxml2) breaks the rule too often to guess
    if name == "libcrypto":
        name = "libssl"  # OpenSSL ships libcrypto in the libssl package
    return f"{name}{major}".lower().replace("_", "-") if major else None  # Debian names have no "_"

class MissingDependencyFacts(Facts):
    """The facts of missing-dependency."""

    kind: str | None = Field(None, description="module, package, gem, shared library, file.")
    language: str | None = Field(None, description="The runtime.")
    module: str | None = Field(None, description="The module or package that is missing.")
    platform: str | None = Field(None, description="The platform a gem was built for.")
    version: str | None = Field(None, description="The version wanted.")


# Python import names whose PyPI package is named otherwise
_ADDON = lazy_re(r"(?:^|/)build/(?:Release|Debug)/|\.node$")
_ADDON_PLATFORM = lazy_re(r"(linuxmusl|linux|darwin|win32)-(x64|arm64|arm|ia32)")
_NODE_PACKAGE = lazy_re(r"node_modules/((?:@[\w.-]+/)?[\w.-]+)/")
_INSTALLING = lazy_re(r"installing the \"([\w@/.-]+)\" module")


def _native_addon(ev: Evidence, module: str) -> tuple[str, str | None, str | None] | None:
    """(package, libc, cpu) of a missing compiled Node addon, or None when `module` is not one."""
    if not _ADDON.search(module):
        return None
    base = module.rsplit("/", 1)[-1].removesuffix(".node")
    plat = _ADDON_PLATFORM.search(base)
    # The package: the one the log says failed to install, else the name before the platform in the addon's
    # file name (sharp-linuxmusl-arm64v8), else the first package path in the trace.
    said = next((m.group(1) for t in ev.logs.texts if (m := _INSTALLING.search(t))), None)
    named = base[: plat.start()].rstrip("-_.") if plat and plat.start() else None
    traced = next((m.group(1) for t in ev.logs.texts if (m := _NODE_PACKAGE.search(t))), None)
    pkg = said or named or traced or re.split(r"[-_.]", base)[0] or base
    libc = ("musl" if plat.group(1) == "linuxmusl" else "glibc" if plat.group(1) == "linux" else None) if plat else None
    return pkg, libc, plat.group(2) if plat else None


_DOTTED = lazy_re(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")


def _installed_in_log(ev: Evidence, container: str | None, base: str) -> bool:
    """Whether the container's log shows a file of the installed package `base` (a traceback frame under
    site-packages/<base>/ or dist-packages/<base>/)."""
    needle = re.compile(r"(?:site|dist)-packages/" + re.escape(base) + r"/")
    name = remedy.container_name(ev, container)
    return ev.logs.search(needle, 0, keep=(lambda c: c in (name, None)) if name else None) is not None


_PYPI = {
    "dotenv": "python-dotenv", "yaml": "PyYAML", "cv2": "opencv-python-headless", "PIL": "Pillow",
    "sklearn": "scikit-learn", "bs4": "beautifulsoup4", "dateutil": "python-dateutil", "jwt": "PyJWT",
    "magic": "python-magic", "Crypto": "pycryptodome", "MySQLdb": "mysqlclient", "psycopg2": "psycopg2-binary",
    "jose": "python-jose", "multipart": "python-multipart", "docx": "python-docx", "pptx": "python-pptx",
    "telegram": "python-telegram-bot", "slugify": "python-slugify", "dns": "dnspython", "OpenSSL": "pyOpenSSL",
    "google.protobuf": "protobuf", "attr": "attrs", "serial": "pyserial", "usb": "pyusb", "zmq": "pyzmq",
    "corsheaders": "django-cors-headers", "rest_framework": "djangorestframework", "environ": "django-environ",
    "storages": "django-storages", "debug_toolbar": "django-debug-toolbar", "ldap": "python-ldap",
    "fitz": "PyMuPDF", "Levenshtein": "python-Levenshtein", "socketio": "python-socketio", "engineio": "python-engineio",
}


# Top-level names that are namespace packages: several distributions install their parts under them
# (google-cloud-storage, protobuf and googleapis-common-protos all under google/), so none of them is installed or
# pinned by that name, and its directory in site-packages says nothing about the part that is missing.
_NAMESPACE_ROOTS = frozenset({"google", "azure", "zope", "jaraco", "backports", "sphinxcontrib", "ruamel",
                              "opentelemetry", "mpl_toolkits", "plone", "repoze"})


def _mapped_prefix(module: str) -> str | None:
    """The longest dotted prefix of `module` (itself included) whose PyPI package is named otherwise."""
    parts = module.split(".")
    return next((p for n in range(len(parts), 0, -1) if (p := ".".join(parts[:n])) in _PYPI), None)


# The module fact of "ImportError: cannot import name 'X' from 'a.b'": "X (from a.b)".
_NAME_FROM = lazy_re(r"(\w+) \(from ([\w.]+)\)")
# Python 3.8+ follows the module with its file: "... from 'a.b' (/usr/local/lib/python3.11/site-packages/a/b.py)".
_NAME_FILE = lazy_re(r"cannot import name '\w+' from '[\w.]+' \((/[^)]+)\)")
_INSTALLED_DIR = lazy_re(r"/(?:site|dist)-packages/")
# Top-level package names that are the usual folders of an app's own code (a project layout, not a distribution
# anyone installs): only the order of the two readings below, when no file path decides it.
_OWN_LAYOUT = frozenset({"app", "src", "plugins", "dags", "config", "settings", "utils", "common", "core", "lib",
                         "api", "models", "services", "helpers", "tasks", "jobs", "project", "apps", "modules",
                         "handlers", "shared", "internal"})


def _name_owner(ev: Evidence, m: Match, module: str) -> str | None:
    """Whose code `module` (the a.b of "cannot import name 'X' from 'a.b'") is, from the evidence: "installed" (its
    file is under site-packages or dist-packages, in the error's own path or a traceback frame), "own" (its file is
    elsewhere: the app's code), or None when no file of it is in the log."""
    text = ev.logs.texts[m.anchor] if m.anchor is not None and m.anchor < len(ev.logs.texts) else ""
    said = _NAME_FILE.search(text)
    if said:
        return "installed" if _INSTALLED_DIR.search(said.group(1)) else "own"
    rel = re.escape(module.replace(".", "/"))
    frame = re.compile(r"File \"(/[^\"]*?)/" + rel + r"(?:\.py|/__init__\.py)\"")
    name = remedy.container_name(ev, m.facts.get("container"))
    hit = ev.logs.search(frame, 0, keep=(lambda c: c in (name, None)) if name else None)
    if hit is not None:
        found = frame.search(ev.logs.texts[hit])
        return "installed" if found and _INSTALLED_DIR.search(found.group(1) + "/") else "own"
    top = module.split(".")[0]
    if _installed_in_log(ev, m.facts.get("container"), top):
        return "installed"
    return None


def _name_step(ev: Evidence, m: Match, name: str, module: str) -> str:
    """The first step for "cannot import name 'X' from 'a.b'": a.b exists but has no X. Either a.b is the app's own
    code and the image was built from code older than the code that imports X (rebuild it from the code that defines
    X), or a.b belongs to an installed package whose release lacks X (pin the release that has it)."""
    top = module.split(".")[0]
    mapped = _PYPI.get(_mapped_prefix(module) or top)
    pkg = f"`{mapped}`" if mapped else f"the package that provides `{top}`"
    own = (f"if `{module}` is the app's own code, the image was built from older code than the code that imports "
           f"`{name}`: rebuild the image from the code that defines `{name}` in `{module}` (check that the build "
           "copies that folder into the image, rather than the task relying on a mount it does not have)")
    pinned = (f"if `{top}` is a third-party package, its installed release has no `{name}`: pin the release of {pkg} "
              f"the code was written for (one that has `{name}`) in requirements.txt / pyproject and rebuild the image")
    owner = _name_owner(ev, m, module)
    if owner == "own":
        return (f"`{module}` is the app's own code (its file in the log is outside site-packages), but the image's "
                f"copy of it has no `{name}`: the image was built from older code than the code that imports it. "
                f"Rebuild the image from the code that defines `{name}` (check that the build copies that folder "
                "into the image, rather than the task relying on a mount it does not have).")
    if owner == "installed":
        return (f"`{module}` belongs to an installed package (its file in the log is under site-packages), whose "
                f"installed release has no `{name}`: pin the release of {pkg} the code was written for (one that "
                f"has `{name}`) in requirements.txt / pyproject and rebuild the image.")
    first, second = (own, pinned) if top in _OWN_LAYOUT else (pinned, own)
    return (f"The image's `{module}` has no `{name}`; the log does not show its file (a path under "
            "site-packages or dist-packages means an installed package, any other path the app's own code). "
            f"{first[0].upper()}{first[1:]}; {second}.")


_BOOT_LAUNCHER = lazy_re(r"^org\.springframework\.boot\.loader\.(?P<launch>launch\.)?(?P<cls>(?:Jar|War|Properties)Launcher)$")


_YARN = lazy_re(r"yarnpkg\.com|^error Command failed with exit code|\byarn (?:run|start|node)\b|/\.yarn/|"
                   r"\.pnp\.c?js", re.IGNORECASE)


_YARN_NEEDLES = ("yarnpkg.com", "error command failed with exit code", "yarn ", "/.yarn/", ".pnp.")


_BUN = lazy_re(r"\bBun v\d|\boven/bun\b|/home/bun/|\bbun(?:x)? (?:run|install)\b|\.bun/install/")


def _uses_bun(ev: Evidence, image: str | None) -> bool:
    """The app runs on Bun (its log names Bun's runtime or home, or the image is oven/bun): install with bun."""
    return bool(image and "oven/bun" in image) or any(
        _BUN.search(ev.logs.texts[i]) for i in ev.logs.lines_with("bun"))


def _uses_yarn(ev: Evidence) -> bool:
    """The app runs under Yarn (its log says so): install with Yarn, not npm (npm ci needs a package-lock.json)."""
    return any(_YARN.search(ev.logs.texts[i]) for i in ev.logs.lines_with(*_YARN_NEEDLES))


_NODE_FRAME = lazy_re(r"\((/[^()\s]+)/[^/()\s]+\.[cm]?js:\d+:\d+\)")
_TOP_DIRS = frozenset({"src", "dist", "build", "lib", "out", "server", "bin", "app", "dist-server", "scripts"})


def _requiring_subpackage(ev: Evidence) -> str | None:
    """The folder of the app file that required the missing module, when it is a sub-folder of the app
    (/app/prometheus/index.js -> /app/prometheus) rather than its root or a build output folder."""
    for i in ev.logs.lines_with("js:"):  # every _NODE_FRAME match holds ".js:", ".cjs:" or ".mjs:"
        hit = _NODE_FRAME.search(ev.logs.texts[i])
        if not hit or "node_modules" in hit.group(1) or hit.group(1).startswith(("/usr/", "/opt/nodejs")):
            continue
        parts = hit.group(1).strip("/").split("/")
        if len(parts) >= 2 and parts[-1] not in _TOP_DIRS and parts[0] in ("app", "usr", "srv", "home", "opt", "code", "workspace"):
            return hit.group(1)
        return None
    return None


def _moved_launcher(module: str) -> str | None:
    """The class the start command should name when it names a Spring Boot launcher the image's Boot
    version does not have: Spring Boot 3.2 moved `org.springframework.boot.loader.JarLauncher` (and
    War/PropertiesLauncher) to `org.springframework.boot.loader.launch.`; an older Boot has only the old one."""
    m = _BOOT_LAUNCHER.match(module.strip())
    if not m:
        return None
    if m.group("launch"):
        return f"org.springframework.boot.loader.{m.group('cls')}"
    return f"org.springframework.boot.loader.launch.{m.group('cls')}"


def _launcher_explanation(m: Match, ev: Evidence, module: str, container: str) -> Explanation:
    right = _moved_launcher(module) or module
    newer = ".launch." in right
    name = m.facts.get("container") or ev.primary
    query = (f"taskDefinition.containerDefinitions[?name=='{name}'].[entryPoint, command]" if name
             else "taskDefinition.containerDefinitions[].[entryPoint, command]")
    why = ("Spring Boot 3.2 moved its launcher to `" + right + "`: the jar is built with Boot 3.2 or later, "
           "but the start command still names the old class." if newer else
           "`" + module + "` exists only in Spring Boot 3.2 and later: the jar is built with an older Boot, "
           "whose launcher is `" + right + "`.")
    steps = [f"{why} Change the start command to `{right}` (the ENTRYPOINT of a layered-jar Dockerfile names "
             "the launcher class), or start the jar with java -jar. If the "
             "task definition overrides the image's entrypoint or command, fix or remove that override (for an "
             f"image you do not build, removing it lets the image's own entrypoint run): "
             f"`{remedy.describe_task_definition(ev, query)}`.{remedy.cite(m)}",
             f"Register the fixed task definition (or push the rebuilt image) and roll it out: {remedy.roll_out(ev)}."]
    return Explanation(
        title=f"Missing dependency: {module}",
        summary=(f"{container} failed at start-up because its start command names `{module}`, which the jar's "
                 f"Spring Boot version does not have (it is `{right}`). Nothing is missing from the build."),
        remediation=steps,
    )


# PHP classes that come from an extension, not from Composer: class (lower case) -> (extension, how to install)
_PHP_EXTENSIONS: dict[str, tuple[str, str]] = {
    "redis": ("redis", "pecl"), "rediscluster": ("redis", "pecl"), "memcached": ("memcached", "pecl"),
    "imagick": ("imagick", "pecl"), "amqpconnection": ("amqp", "pecl"), "amqpchannel": ("amqp", "pecl"),
    "mongodb": ("mongodb", "pecl"), "swoole": ("swoole", "pecl"), "apcuiterator": ("apcu", "pecl"),
    "ziparchive": ("zip", "ext"), "intldateformatter": ("intl", "ext"), "numberformatter": ("intl", "ext"),
    "collator": ("intl", "ext"), "normalizer": ("intl", "ext"), "soapclient": ("soap", "ext"),
    "gmp": ("gmp", "ext"), "sqlite3": ("sqlite3", "ext"), "xsltprocessor": ("xsl", "ext"),
    "pdo": ("pdo", "ext"), "mysqli": ("mysqli", "ext"), "sodium": ("sodium", "ext"),
}


class MissingDependency(Pattern):
    id = "missing-dependency"
    priority = 100
    severity = "critical"
    Facts = MissingDependencyFacts
    key_facts = ("module",)
    needles = _NEEDLES

    def match(self, ev: Evidence) -> Match | None:
        logs = ev.logs
        for i in candidate_lines(ev, _NEEDLES):
            text = logs.texts[i]
            for language, regex in _RULES:
                m = regex.search(text)
                if not m:
                    continue
                if logs.quiet(i) or _BENIGN.search(text):
                    break
                gem: dict[str, str | None] = {}
                if m.re.pattern.startswith("ImportError: cannot import name"):
                    module = f"{m.group(1)} (from {m.group(2)})"
                    detail = "version-mismatch"
                elif m.re.pattern.startswith("The framework"):
                    module, detail = f"{m.group(1)} {m.group(2)}", "runtime"
                elif m.re.pattern.startswith("could not locate the Query Engine"):
                    module, detail = f"Prisma query engine for {m.group(1)}", "binary-target"
                elif language == "ruby" and m.re.groups == 3:
                    module, detail = m.group(1), None
                    gem = {"version": m.group(2), "platform": m.group(3)}
                elif m.lastindex:
                    module, detail = m.group(1).replace("/", ".") if language == "java" else m.group(1), None
                    if language == "python":
                        # Python's own word for what is missing: an import name (a module) or a distribution
                        # (a package's metadata).
                        detail = "package" if "Distribution" in m.re.pattern or "Package" in m.re.pattern else "module"
                else:
                    module, detail = ".NET runtime", "runtime"
                container = container_for_line(ev, i)
                found: str | None = None
                if language == "dotnet" and detail == "runtime":
                    # The host's message goes on with the framework the app asks for and the ones installed.
                    wanted, found = _dotnet_frameworks(logs.texts, i, container, logs.containers)
                    module = wanted or module
                facts = {"module": module, "language": language or None, "container": container}
                if found:
                    facts["installed"] = found
                if gem:
                    facts.update({k: v for k, v in gem.items() if v})
                if detail:
                    facts["kind"] = detail
                end = logs.block_end(i)
                return Match(facts=facts, proofs=(log_proof(ev, i, through=min(end, i + 2) if end > i else None),),
                             confidence=0.93, stage=Stage.APP, anchor=i, container=container)
        return None

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        module = f.get("module", "?")
        lang = f.get("language")
        container = f.get("container") or "the container"
        image = remedy.q(remedy.image(ev, f.get("container")) or "<the image of the container>")
        base = module.split(" ")[0].split(".")[0]
        steps: list[str] = []
        named: re.Match[str] | None = None
        if lang == "python":
            if f.get("kind") == "version-mismatch" and (named := _NAME_FROM.fullmatch(module)):
                steps.append(_name_step(ev, m, named.group(1), named.group(2)))
            elif f.get("kind") == "version-mismatch":
                steps.append(f"`{module}`: the installed version of the package does not have that name. Pin the "
                             "version the code was written for in requirements.txt / pyproject and rebuild.")
            elif (f.get("kind") == "module" and _DOTTED.fullmatch(module)
                  and (_mapped_prefix(module) == module
                       or (base in _NAMESPACE_ROOTS and _mapped_prefix(module) is None))):
                # A dotted name that is a package of its own: a part of a namespace (google.protobuf is the
                # `protobuf` distribution, google.cloud.storage `google-cloud-storage`), never the root to pin.
                pkg = _PYPI.get(module)
                steps.append((f"Add `{pkg}` (the package that provides the module `{module}`; the names differ) to "
                              "requirements.txt (or pyproject) and rebuild the image" if pkg else
                              f"Add the distribution that provides `{module}` to requirements.txt (or pyproject) and "
                              "rebuild the image (for Google Cloud and Azure client libraries it is usually the "
                              "dotted name with dashes; the library's install instructions name it)")
                             + (f"; `{base}` is a namespace package that several distributions share, so it is not "
                                "a package to pin, and a traceback through its site-packages directory does not "
                                "mean this part is installed" if base in _NAMESPACE_ROOTS else "")
                             + ("; when a library installs it as its dependency, check that the image build did "
                                "not skip dependencies (pip's --no-deps option, or site-packages copied from another "
                                "stage)." if pkg else "."))
            elif f.get("kind") == "module" and "." in module and _DOTTED.fullmatch(module):
                # A submodule (pkg.sub.mod): the top package is often installed and only its release lacks the
                # submodule (moved or removed), which a pin fixes and adding the package again does not. The
                # package is the longest prefix with a PyPI name of its own (google.protobuf.x is protobuf's).
                top = _mapped_prefix(module) or base
                pkg = _PYPI.get(top) or top
                installed = _installed_in_log(ev, f.get("container"), top.replace(".", "/"))
                steps.append((f"`{top}` is installed (the traceback runs through its site-packages directory) but "
                              f"its installed release has no `{module}`: " if installed else
                              f"`{module}` is a submodule of `{top}`: if `{top}` is installed, its installed release "
                              "has no such submodule (moved or removed in that release): ")
                             + f"pin the `{pkg}` version the code (or the library that imports it) was written for in "
                             "requirements.txt / pyproject and rebuild the image"
                             + ("." if installed else
                                f"; if it is not installed, add it; if `{top}` is your own code, the import path is "
                                "wrong: check WORKDIR, PYTHONPATH, and the app module in the start command."))
            else:
                pkg = _PYPI.get(base)
                steps.append((f"Add `{pkg}` (the package that provides the module `{base}`; the names differ) to "
                              "requirements.txt (or pyproject) and rebuild " if pkg else
                              f"Add the package that provides `{base}` to requirements.txt (or pyproject) and rebuild ")
                             + f"the image; if `{base}` is your own code, the import path is wrong: check WORKDIR, "
                             "PYTHONPATH, and the app module in the start command (e.g. gunicorn `--chdir`, "
                             "`module:app`).")
            if named:
                # "cannot import name 'X' from 'a.b'": X is a name inside the module a.b (a class, a function), so
                # `import X` fails on every image; the import the app makes is `from a.b import X`.
                steps.append(f"Verify in the built image (the tag the task ran fails this check; run it on the rebuilt "
                             f"image's tag if the build pushed a new one): `docker run --rm --entrypoint python {image} "
                             f"-c \"from {named.group(2)} import {named.group(1)}\"`.")
            else:
                # The full dotted name: `import pkg` passes on an image whose pkg lacks the submodule.
                target = module if _DOTTED.fullmatch(module) else base
                steps.append(f"Verify in the built image: `docker run --rm --entrypoint python {image} -c \"import {target}\"`.")
        elif lang == "node" and (native := _native_addon(ev, module)):
            # A compiled addon (.node, build/Release): the package installed without a binary for this
            # platform (libc/CPU), not a file the app forgot to copy.
            pkg, libc, cpu = native
            flags = " ".join(x for x in ("--os=linux", f"--libc={libc}" if libc else "", f"--cpu={cpu}" if cpu else "")
                             if x)
            steps.append(f"`{module}` is the compiled native addon of the npm package `{pkg}`, missing because "
                         "the package was installed for another platform (libc/CPU) than the image"
                         + (f" (the name asks for {libc} on {cpu})" if libc and cpu else "")
                         + f": install it inside the image build for the image's platform, not copied from the "
                         f"host's node_modules: `npm install {flags} {pkg}`, or `npm rebuild {pkg}` in the "
                         "Dockerfile (without `--ignore-scripts`), then rebuild and roll out the image.")
            steps.append(f"Verify: `docker run --rm --entrypoint node {image} -e \"require('{pkg}')\"`.")
        elif lang == "node":
            glob = _GLOBAL_NODE.match(module)
            if glob:
                # Under npm's global prefix, not the app's directory: a CLI installed with `npm install -g` (a
                # process manager, a dev server) whose install or launcher symlink is broken in the image.
                tool = glob.group("pkg")
                img = remedy.image(ev, f.get("container")) or "<the image>"
                steps.append(f"`{module}` is not a file of the app: it lies under npm's global prefix, in "
                             + (f"the globally installed package `{tool}`" if tool else
                                "the place a global CLI's launcher in `/usr/local/bin` (a symlink into "
                                "`../lib/node_modules`) resolves its own `../lib/...` files when the symlink was "
                                "copied as a plain file or the package's install is broken")
                             + ": the globally installed tool the container starts with (a process manager such as "
                             "pm2/pm2-runtime, nodemon, serve) is broken in the image. Reinstall it with "
                             "`npm install -g` in the image's final stage, pinned to a release that works (its name, "
                             "`@` and the version) "
                             "instead of copying `/usr/local/bin` or `/usr/local/lib` from another stage, then rebuild "
                             f"and roll out the image; `docker run --rm --entrypoint sh {remedy.q(img)} -c 'ls -l "
                             "/usr/local/bin; npm ls -g --depth=0'` shows the launchers and the installed versions.")
            elif module.startswith(("/", ".")):
                steps.append(f"`{module}` is a file of the app that is not in the image: check the build step "
                             "(`npm run build` output directory), `COPY` lines and WORKDIR.")
            else:
                install = ("`bun install --production --frozen-lockfile`" if _uses_bun(ev, remedy.image(ev, f.get("container")))
                           else "`yarn install --production --frozen-lockfile`" if _uses_yarn(ev) else
                           "`npm ci --omit=dev`")
                sub = _requiring_subpackage(ev)
                steps.append(f"Add `{module}` to `dependencies` (not `devDependencies`) in package.json, run "
                             f"{install} in the image build and make sure node_modules is copied into the "
                             "final stage." + (f" The file that requires it is in `{sub}`: if that folder has a "
                             "package.json of its own, it needs its own install there (its own node_modules)."
                             if sub else ""))
            if module.startswith("."):
                # A relative path resolves from the requiring file, not from the working directory: look for it.
                leaf = module.rstrip("/").rsplit("/", 1)[-1]
                leaf = leaf if re.fullmatch(r"[\w.@+-]+", leaf) else None
                steps.append("Verify where the file is in the image (a relative require resolves from the file that "
                             "requires it, not from the working directory)"
                             + (f": `docker run --rm --entrypoint sh {image} -c \"find / -name '{leaf}*' -not "
                                "-path '/proc/*' 2>/dev/null | head\"`." if leaf else "."))
            else:
                steps.append(f"Verify: `docker run --rm --entrypoint node {image} -e \"require.resolve('{module}')\"`.")
        elif lang == "native" and re.fullmatch(r"(?:GLIBC|GLIBCXX|CXXABI)_[\d.]+", module):
            # A symbol version: the binary was built against a newer C/C++ library than the runtime image has.
            lib = {"GLIBC": "glibc", "GLIBCXX": "libstdc++", "CXXABI": "libstdc++"}[module.split("_")[0]]
            steps.append(f"The binary was built against a newer {lib} than the runtime image has (it needs "
                         f"`{module}`): no package adds a newer {lib} to an older distribution. Build and run on the "
                         "same base (e.g. the same Debian/Ubuntu release in the build and the final stage), or move "
                         f"the final stage to a release whose {lib} has {module}"
                         + (" (Debian 12 bookworm has glibc 2.36, Ubuntu 22.04 has 2.35)" if lib == "glibc"
                            and tuple(int(x) for x in module.split("_")[1].split(".")[:2]) <= (2, 35) else "")
                         + ", or build a static/musl binary.")
        elif lang == "native" and _GLIBC_SONAME.match(module):
            # glibc's own library: every glibc-based image has it, so the image is not glibc-based.
            steps.append(f"`{module}` is part of glibc (Debian's `libc6`), which every glibc-based image has: the "
                         "binary was built against glibc and the image has none (an Alpine/musl image, or a "
                         "distroless/scratch image without libc). Run it on a glibc-based image (a Debian or Ubuntu "
                         "slim image, distroless `base`/`cc` rather than `static`), or build it for that image "
                         "(on Alpine, in an Alpine build stage; or as a static binary).")
        elif lang == "native":
            known, pkg = _known_package(module)
            pkg = pkg if known else _debian_package(module)
            guess = ((f" (on Debian/Ubuntu the package `{pkg}`: " if known else
                      f" (on Debian/Ubuntu usually `{pkg}`, as Debian names a library's package after its soname: ")
                     + f"`apt-get update && apt-get install -y --no-install-recommends {pkg}`)" if pkg else "")
            steps.append(f"Install the OS package that provides `{module}` in the image{guess}, or use a base image "
                         "that has it; to find the package, run `apt-get update && apt-get install -y apt-file && "
                         f"apt-file update && apt-file search {module}` in a container of that base image (on Alpine: "
                         f"`apk search so:{module}`). Binaries built against glibc fail on Alpine (musl).")
        elif lang == "java" and _moved_launcher(module):
            return _launcher_explanation(m, ev, module, container)
        elif lang == "java":
            steps.append(f"`{module}` is not on the classpath: build a fat/uber JAR (Spring Boot repackage, shade "
                         "plugin) or copy the dependency JARs into the image; check the main class name and the "
                         "`-cp`/`-jar` arguments.")
        elif lang == "ruby" and f.get("platform"):
            steps.append(f"Bundler wants the `{f['platform']}` build of `{module}` {f.get('version', '')} and the image "
                         "does not have it: the Gemfile.lock does not list the image's platform, or the gems were "
                         "installed on another platform (an arm64 laptop, a cached layer). Run "
                         f"`bundle lock --add-platform {f['platform']}` and commit the Gemfile.lock, then run "
                         "`bundle install` inside the image build for the task's CPU architecture.")
        elif lang == "ruby":
            steps.append(f"Add `{module}` to the Gemfile and run `bundle install` in the image build (with the "
                         "same BUNDLE_WITHOUT groups as production).")
        elif lang == "dotnet":
            ver = re.search(r"\b(\d+)\.(\d+)(?:\.\d+)?\b", f"{module} {f.get('version', '')}")
            flavour = "runtime" if "NETCore.App" in module and "AspNetCore" not in module else "aspnet"
            if ver:
                # .NET Core 2.x/3.x images live under dotnet/core/ (renamed to dotnet/ from 5.0 on)
                repo = "dotnet/core" if int(ver.group(1)) < 5 else "dotnet"
                where = f"the `mcr.microsoft.com/{repo}/{flavour}:{ver.group(1)}.{ver.group(2)}` base image"
            else:
                where = f"the `mcr.microsoft.com/dotnet/{flavour}` tag of the app's TargetFramework as base image"
            # Every installed version: roll-forward is a question of any newer major among them, and the build to
            # offer is for the newest one.
            versions = sorted(((int(a), int(b), int(c or 0)) for a, b, c in
                               re.findall(r"\b(\d+)\.(\d+)(?:\.(\d+))?", f.get("installed") or "")), reverse=True)
            top = versions[0] if versions else None
            have = re.match(r"(\d+)\.(\d+)", f"{top[0]}.{top[1]}") if top else None
            newer = bool(ver and any(major > int(ver.group(1)) for major, _, _ in versions))
            wanted_patch = re.search(r"\b(\d+)\.(\d+)\.(\d+)\b", module)
            # Same major.minor, an older patch: the app was built against a newer servicing release than the base
            # image carries (.NET rolls forward to a newer patch, never back); the TargetFramework is right.
            stale = next(((major, minor, patch) for major, minor, patch in versions if wanted_patch and not newer
                          and (major, minor) == (int(wanted_patch.group(1)), int(wanted_patch.group(2)))
                          and patch < int(wanted_patch.group(3))), None)
            why = ("a newer .NET runtime than the app's TargetFramework, and .NET does not roll an app forward to "
                   "another major version unless told to (the container's environment `DOTNET_ROLL_FORWARD=Major` "
                   "does, if the app works on the newer runtime: test it first)" if newer else
                   "an older .NET runtime than the app's TargetFramework (a base image the project's upgrade did not "
                   "follow), so the task definition's command does not fix it")
            tfm = ((f"net{have.group(1)}.{have.group(2)}" if int(have.group(1)) >= 5
                    else f"netcoreapp{have.group(1)}.{have.group(2)}") if have else "")
            if f.get("installed") and ver and stale and wanted_patch:
                base = where.replace(" base image", "").removeprefix("the ")
                steps.append(f"The app needs `{module}` but the image has {f['installed']}: the same "
                             f"{stale[0]}.{stale[1]} runtime, an older patch than the app was built against (.NET "
                             "rolls an app forward to a newer patch, never back to an older one), so the "
                             "TargetFramework is right and the base image is stale. Refresh it: rebuild on the current "
                             f"{base} tag (`docker build --pull`, so the build does not reuse the cached older "
                             f"{stale[0]}.{stale[1]}.{stale[2]} image), or publish self-contained.")
            elif f.get("installed") and ver:
                # Both versions named: the app and the runtime in one image disagree, a build mismatch of the image.
                steps.append(f"The app targets `{module}` but the image has only {f['installed']} of it: the image "
                             f"was built on {why}. Rebuild the "
                             f"image on {where} (the runtime the app targets), or publish self-contained"
                             + (f"; or build the app for the installed runtime (TargetFramework {tfm})" if tfm
                                else "") + ".")
            else:
                steps.append(f"Publish with the runtime the app targets (`{module}`): use {where} or a self-contained "
                             "publish.")
        elif lang == "php":
            ext = _PHP_EXTENSIONS.get(base.lower()) or _PHP_EXTENSIONS.get(module.split("\\")[0].lower())
            if ext:
                name, how = ext
                install = (f"`pecl install {name} && docker-php-ext-enable {name}`" if how == "pecl"
                           else f"`docker-php-ext-install {name}`")
                steps.append(f"`{module}` is a class of the PHP extension `{name}`, which the image's PHP lacks (a "
                             f"Composer package does not provide it): install it in the Dockerfile with {install} "
                             "(official php images), or your distribution's php-" + name + " package"
                             + ("; or, with Laravel, use the pure-PHP client instead: `composer require predis/predis` "
                                "and `REDIS_CLIENT=predis`" if name == "redis" else "") + ".")
            else:
                steps.append(f"`{module}` is not autoloaded: run `composer install --no-dev --optimize-autoloader` in "
                             "the image build (and copy vendor/ into the final stage), and check the class's namespace "
                             "and file name case (Linux file systems are case-sensitive).")
        else:
            steps.append(f"Add `{module}` to the image build and rebuild.")
        ref = remedy.image(ev, f.get("container"))
        # Someone else's image (an official Docker Hub image, public ECR, a well-known vendor's): the team does not
        # build it, so a rebuild with the package is not the first thing to do; the task's command and the tag it
        # pins are theirs. Any ECR registry (a central build account's too) is the team's own; any other registry
        # (GHCR, a Docker Hub organisation) may be either, so both readings get their step.
        source = _image_source(ref)
        if lang == "dotnet" and f.get("kind") == "runtime" and f.get("installed") and source != "own" and steps:
            # The app and its runtime are both in the image: whoever builds it rebuilds it; a published tag that
            # ships them mismatched is pinned to another tag, not fixed by the task's command.
            steps[0] += (f" If `{ref}` is someone else's image, that tag was published mismatched: pin a tag of it "
                         "whose runtime matches the app and report it to its maintainers.")
            source = "own"
        # the program the dynamic loader was starting, when its line names it
        loader = next((b for p in m.proofs if (b := _LOADER_BINARY.search(p.text))), None) if lang == "native" else None
        binary = loader.group(1) if loader else None
        if lang == "native" and binary and ref and source != "own" and steps and _foreign_binary(binary, ref, ev):
            # The library is missing for a program that is not the image's own: another tag of the image would
            # fail the same way, and its maintainers ship no such program. It runs on the image's libraries.
            mounts = remedy.container_query(ev, remedy.container_name(ev, f.get("container")),
                                            "[mountPoints, volumesFrom]")
            steps = [f"`{module}` is missing for `{binary}`, the program the loader was starting, which is not "
                     f"named after `{ref}`'s own program. If this path is mounted from the host (a host volume "
                     "over its directory, as AWS Batch and workflow engines do for the AWS CLI) or from another "
                     "container's volume, the tool runs on the libraries of the image it lands in, and this image "
                     "lacks that one, so pinning another tag of the image does not help. Check what is mounted "
                     "there (`"
                     + remedy.describe_task_definition(ev, mounts) + "`, and the job definition or launch "
                     "template that sets the volume), then either provide the library in the image (a Dockerfile "
                     f"of your own, `FROM {ref}`, that installs it; see below), or install the tool in the image "
                     "instead of mounting it, or mount a build of the tool that carries its own libraries (and "
                     "points LD_LIBRARY_PATH at them).",
                     *steps]
            source = "own"
        upstream = source == "published"
        if source == "unsure" and steps:
            own_first = steps[0][0].lower() + steps[0][1:]
            steps = [_upstream_step(ev, f.get("container"), module, ref or "", hedge=True),
                     f"If you build `{ref}` from your source: {own_first}", *steps[1:]]
        if upstream and steps:
            # The build advice (add the package, COPY, rebuild) is for an image the team builds: not this one. A
            # missing OS library can still be added on top of it, in an image of the team's own.
            extend = ([f"Or keep this tag and extend it in a Dockerfile of your own (`FROM {ref}`), pushed to your "
                       "ECR: " + steps[0][0].lower() + steps[0][1:]] if lang == "native" else [])
            steps = [_upstream_step(ev, f.get("container"), module, ref or ""), *extend,
                     *(t.replace("Verify in the built image", "Verify in the image") for t in steps[1:])]
        if steps:
            steps[0] += remedy.cite(m)
        # "At start-up" only when the task failed within its first minutes: a module imported later (on a request,
        # in a job) does not fail a local start.
        early = (remedy.ran_for(ev) or 0) <= remedy.RAN_A_WHILE_S
        if upstream:
            steps.append(f"Register the task definition with the corrected command or pinned tag and roll it out: "
                         f"{remedy.roll_out(ev)}.")
            return Explanation(
                title=f"Missing dependency: {module}",
                summary=(f"{container} failed {'at start-up ' if early else ''}because `{module}` is not available in "
                         f"the image {ref}" + (f" ({lang})" if lang else "") + ": the command the task runs or the "
                         "image's tag does not match what that image contains."),
                remediation=steps,
            )
        if source == "unsure":
            steps.append(f"Either way, register the task definition with the corrected command, the pinned tag or the "
                         f"rebuilt image and roll it out: {remedy.roll_out(ev)}.")
            return Explanation(
                title=f"Missing dependency: {module}",
                summary=(f"{container} failed {'at start-up ' if early else ''}because `{module}` is not available in "
                         f"the image {ref}" + (f" ({lang})" if lang else "") + ": its build lacks it or, if the image "
                         "is someone else's, the command the task runs or the tag does not match what it contains."),
                remediation=steps,
            )
        steps.append(("Build and run the image locally before deploying: the same error appears at start-up. Then "
                      if early else "Rebuild the image; the task ran a while before it failed, so the import happens "
                      "later than start-up (a request or a job): check it in the built image rather than by starting "
                      "it. Then ")
                     + f"roll out the new image: {remedy.roll_out_image(ev, f.get('container'))}.")
        return Explanation(
            title=f"Missing dependency: {module}",
            summary=(f"{container} failed {'at start-up ' if early else ''}because `{module}` is not available in the image"
                     + (f" ({lang})" if lang else "") + ". The image build is missing it."),
            remediation=steps,
        )


# Publishers whose images a team runs but does not build: Docker Hub's official images (no namespace or
# `library/`), public ECR, and a few well-known vendors' namespaces.
_PUBLISHED_REGISTRIES = frozenset({"public.ecr.aws", "mcr.microsoft.com", "registry.k8s.io", "gcr.io"})
_VENDORS = frozenset({"bitnami", "grafana", "datadog", "hashicorp", "confluentinc", "elastic", "amazon",
                      "amazonlinux", "nginxinc", "prom", "jaegertracing", "otel", "envoyproxy", "fluent",
                      "openpolicyagent", "minio", "localstack", "sonatype", "jenkins", "gitlab", "redislabs",
                      "mongodb", "postgis", "timescale", "apache", "wurstmeister", "newrelic", "sonarsource"})
_DOCKER_HUB = frozenset({None, "docker.io", "index.docker.io", "registry-1.docker.io"})


def _image_source(ref: str | None) -> str:
    """"own" (an ECR registry of any account, or no image reference to judge), "published" (an official, public-ECR
    or well-known vendor's image) or "unsure" (another registry's namespace: the team's or someone else's)."""
    if not ref or not remedy.is_image_ref(ref):
        return "own"
    registry, repo, _, _ = remedy.image_parts(ref)
    if registry and ".dkr.ecr" in registry and registry.endswith((".amazonaws.com", ".amazonaws.com.cn")):
        return "own"
    namespace = repo.split("/", 1)[0] if "/" in repo else None
    if registry in _PUBLISHED_REGISTRIES or (registry in _DOCKER_HUB and namespace in (None, "library")):
        return "published"
    return "published" if namespace in _VENDORS else "unsure"


def _upstream_step(ev: Evidence, container: str | None, module: str, ref: str, hedge: bool = False) -> str:
    """Step 1 for a module missing from an image the team does not build: a path the task's command names is
    checked against the image; a package or library missing from a published tag is fixed by pinning another.
    `hedge` when the registry does not say whose image it is."""
    published = (f"If `{ref}` is not built from your source (it is in no ECR registry; a published image): " if hedge
                 else f"`{ref}` is a published image, not one built from your source: ")
    moving = ":latest" in ref or ":" not in ref.rsplit("/", 1)[-1]
    name = remedy.container_name(ev, container)
    query = remedy.container_query(ev, name, "[image, entryPoint, command]")
    # a path (absolute or relative), not ".NET runtime", the name of what the .NET host did not find
    if not module.startswith(("/", ".")) or module.startswith(".NET "):
        return (published + f"this tag lacks `{module}`, and rebuilding it is its maintainers' job. If the task "
                "definition overrides the image's start (`entryPoint`/`command`, "
                f"`{remedy.describe_task_definition(ev, query)}`), check that it runs what this image documents; "
                "otherwise pin the release "
                + ("that worked instead of the moving `:latest`" if moving else "before this one (the last that "
                   "worked)") + ", and check its issue tracker or report it there.")
    return (published + f"the fix is in the task definition, not a rebuild: this image (this tag) has no file at "
            f"`{module}`. Check that the task's `entryPoint`/`command` match what the image runs (its documentation, "
            f"or its own ENTRYPOINT/CMD): `{remedy.describe_task_definition(ev, query)}` and `docker pull "
            f"{remedy.q(ref)}`, then `docker image inspect --format '{{{{json .Config.Entrypoint}}}} "
            f"{{{{json .Config.Cmd}}}}' {remedy.q(ref)}`; a command copied from another version or variant of the "
            "image fails like this. Pin the tag "
            + ("that worked instead of the moving `:latest`" if moving else "the command was written for") + ".")


PATTERN = MissingDependency()
