"""Django settings for cets.

Environment:
- ``CETS_DATABASE_URL``: ``postgresql://user:pass@host:5432/db`` for production; default is the
  SQLite file ``var/cets.sqlite3`` (WAL) under the working directory (``CETS_VAR_DIR``).
- ``CETS_SECRET_KEY``: the signing key (default: a random key kept in ``var/secret_key``).
- ``CETS_DEBUG=1`` for development; ``CETS_HTTPS=1`` behind TLS (secure cookies, HSTS); ``CETS_ALLOWED_HOSTS``: comma list.
- ``CETS_SESSION_IDLE_MINUTES``: a session ends after this many minutes without a request (default 30).
- ``CETS_EMAIL_BACKEND`` (default the console), ``CETS_EMAIL_FROM``: how notifications are e-mailed.
- ``CETS_LOGIN_FAILURE_LIMIT`` (default 5) failed sign-ins lock the account name and, separately, the client
  address for ``CETS_LOGIN_COOLOFF_MINUTES`` (default 15) (django-axes, on ``/login/`` and ``/admin/login/``).
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("CETS_VAR_DIR", Path.cwd() / "var")).resolve()

DEBUG = os.environ.get("CETS_DEBUG", "0") == "1"


def _secret_key() -> str:
    """``CETS_SECRET_KEY``, or a random key kept (mode 0600) in ``var/secret_key`` for a local install."""
    key = os.environ.get("CETS_SECRET_KEY")
    if key:
        return key
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        import secrets

        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h for h in os.environ.get("CETS_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "ninja",  # Swagger UI from django-ninja's own static files (no CDN) at /api/v1/docs
    "cets.core",
    "cets.rules",
    "cets.parties",
    "cets.mrv",
    "cets.allocation",
    "cets.registry",
    "cets.compliance",
    "cets.supervision",
    "cets.trading",
    "cets.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "cets.web.middleware.NulInputMiddleware",  # a NUL in a form or query value: 400 S0502 (PostgreSQL cannot store it)
    "cets.web.middleware.SecondFactorEnrolmentMiddleware",  # a role that needs TOTP enrols a device before any page
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "cets.web.middleware.PermissionsPolicyMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

# django-axes first: it refuses a locked-out account name or address before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("CETS_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = _dt.timedelta(minutes=int(os.environ.get("CETS_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: an account name, or an address
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_VERBOSE = False

ROOT_URLCONF = "cets.urls"
WSGI_APPLICATION = "cets.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dict:
    url = os.environ.get("CETS_DATABASE_URL")
    if url:
        db = dj_database_url.parse(url, conn_max_age=60)
        # Optional server-side binding (CETS_PG_SERVER_SIDE_BINDING=1): psycopg then prepares repeated statements;
        # measured slower for the ledger on this machine (5.3 vs 4.5 ms a transfer), so it is off by default.
        if db["ENGINE"].endswith("postgresql"):
            db.setdefault("OPTIONS", {})["server_side_binding"] = os.environ.get("CETS_PG_SERVER_SIDE_BINDING", "0") == "1"
        # Separate test databases let several suites run at once on one server.
        db["TEST"] = {"NAME": os.environ.get("CETS_TEST_DB_NAME", f"test_{db['NAME']}")}
        return db
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(VAR_DIR / "cets.sqlite3"),
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
OTP_TOTP_ISSUER = "cets"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "web:login"

SESSION_COOKIE_HTTPONLY = True
# Idle timeout: every request saves the session and so pushes its expiry on; after this many seconds
# without a request the session ends and the user signs in again.
SESSION_COOKIE_AGE = int(os.environ.get("CETS_SESSION_IDLE_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Behind a TLS-terminating proxy in production set CETS_HTTPS=1 (secure cookies, HSTS).
HTTPS = os.environ.get("CETS_HTTPS", "0") == "1"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp 4): no inline script or style anywhere, nothing from another origin.
# Pages load /static/web/cets.js for their little behaviour; /api/v1/docs loads django-ninja's own Swagger UI.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
# Browser features no page uses (cets.web.middleware.PermissionsPolicyMiddleware).
PERMISSIONS_POLICY = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()"

# Notifications (cets.parties.notifications) are e-mailed through Django's mail backend: the console in development
# and the demo, SMTP in production (CETS_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and Django's
# EMAIL_HOST settings); tests use locmem (Django's test runner).
EMAIL_BACKEND = os.environ.get("CETS_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("CETS_EMAIL_FROM", "cets@localhost")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "web" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
WHITENOISE_USE_FINDERS = True  # app static files are served even before collectstatic
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CETS_LOG_LEVEL", "WARNING")},
}
