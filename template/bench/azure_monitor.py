"""A local stand-in for what the service's telemetry talks to in production, so that a benchmark measures the
exports that succeed there instead of exports that fail offline (no token, no endpoint: the exporter then
retries and spools batches to disk, work production does not do).

- The managed identity endpoint of an Azure ML online deployment: the container gets MSI_ENDPOINT and
  MSI_SECRET, and ManagedIdentityCredential (service_identity.py) asks it for a token with
  `GET <MSI_ENDPOINT>?api-version=2017-09-01&resource=<scope>&clientid=<id>` and the `secret` header; the
  answer's `expires_on` is epoch seconds (azure-identity, `_credentials/azure_ml.py`). Plain HTTP inside the
  container, as there.
- Application Insights' ingestion endpoint, over TLS with a certificate made here for 127.0.0.1 (the client
  trusts it through REQUESTS_CA_BUNDLE): `POST /v2.1/track`, a JSON array of envelopes, gzip-encoded or not,
  answered with `{"itemsReceived", "itemsAccepted", "errors"}` (the exporter's generated client,
  `_generated/operations`). Local authentication is off on the platform's resources, so a request without
  the issued bearer token gets 401, as Application Insights answers it
  (learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication).

`python -m bench.azure_monitor FOLDER` writes FOLDER/endpoints.json (the variables the service needs) once
it listens, and serves until stopped; `GET <token endpoint>/counts` answers what was accepted, by envelope.
"""

import datetime
import gzip
import ipaddress
import json
import secrets
import ssl
import sys
import threading
import time
from collections import Counter
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TRACK_PATH = "/v2.1/track"
TOKEN_PATH = "/msi/token"
COUNTS_PATH = "/counts"
MSI_API_VERSION = "2017-09-01"
TOKEN_LIFETIME_SECONDS = 3600
LOCALHOST = "127.0.0.1"


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files in `folder`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LOCALHOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOCALHOST))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


class StandIn:
    """The state both endpoints share: the one token issued and what ingestion accepted, items by type
    (`RequestData`: spans; `MetricData`) and metric values summed by name."""

    def __init__(self) -> None:
        self.secret = secrets.token_urlsafe(16)
        self.token = secrets.token_urlsafe(32)
        self.accepted: Counter[str] = Counter()
        self.metrics: Counter[str] = Counter()
        self.refused = 0
        self.lock = threading.Lock()

    def accept(self, envelopes: list[dict]) -> None:
        with self.lock:
            for envelope in envelopes:
                data = envelope.get("data", {})
                self.accepted[data.get("baseType", "")] += 1
                for metric in data.get("baseData", {}).get("metrics", []):
                    self.metrics[metric["name"]] += metric["value"]


def handler(stand_in: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: a line a batch would bury the benchmark's own output."""

        def answer(self, status: HTTPStatus, body: object) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == COUNTS_PATH:
                with stand_in.lock:
                    self.answer(
                        HTTPStatus.OK,
                        {
                            "accepted": dict(stand_in.accepted),
                            "metrics": dict(stand_in.metrics),
                            "refused": stand_in.refused,
                        },
                    )
                return
            query = parse_qs(url.query)
            if url.path != TOKEN_PATH or query.get("api-version") != [MSI_API_VERSION]:
                self.answer(HTTPStatus.NOT_FOUND, {"error": "not_found"})
                return
            if self.headers.get("secret") != stand_in.secret:
                self.answer(HTTPStatus.UNAUTHORIZED, {"error": "invalid_secret"})
                return
            self.answer(
                HTTPStatus.OK,
                {
                    "access_token": stand_in.token,
                    "expires_on": int(time.time()) + TOKEN_LIFETIME_SECONDS,
                    "resource": query.get("resource", [""])[0],
                    "token_type": "Bearer",
                },
            )

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if urlsplit(self.path).path != TRACK_PATH:
                self.answer(HTTPStatus.NOT_FOUND, {"error": "not_found"})
                return
            if self.headers.get("Authorization") != f"Bearer {stand_in.token}":
                with stand_in.lock:
                    stand_in.refused += 1
                self.answer(HTTPStatus.UNAUTHORIZED, {"itemsReceived": 0, "itemsAccepted": 0, "errors": []})
                return
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            envelopes = json.loads(body)
            stand_in.accept(envelopes)
            count = len(envelopes)
            self.answer(HTTPStatus.OK, {"itemsReceived": count, "itemsAccepted": count, "errors": []})

    return Handler


def start(folder: Path) -> tuple[dict, StandIn]:
    """Both endpoints listening on threads of this process; their addresses and the shared state."""
    folder.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = certificate(folder)
    stand_in = StandIn()
    ingestion = ThreadingHTTPServer((LOCALHOST, 0), handler(stand_in))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    ingestion.socket = context.wrap_socket(ingestion.socket, server_side=True)
    identity = ThreadingHTTPServer((LOCALHOST, 0), handler(stand_in))
    for server in (ingestion, identity):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoints = {
        "ingestion": f"https://{LOCALHOST}:{ingestion.server_port}/",
        "token": f"http://{LOCALHOST}:{identity.server_port}{TOKEN_PATH}",
        "counts": f"http://{LOCALHOST}:{identity.server_port}{COUNTS_PATH}",
        "secret": stand_in.secret,
        "ca_bundle": str(cert_file),
        "tmp": str(folder / "tmp"),
    }
    (folder / "tmp").mkdir(exist_ok=True)
    return endpoints, stand_in


def serve(folder: Path) -> None:
    """Serves until the process is stopped, its endpoints in FOLDER/endpoints.json once it listens."""
    endpoints, _ = start(folder)
    written = folder / "endpoints.json"
    written.with_suffix(".tmp").write_text(json.dumps(endpoints))
    written.with_suffix(".tmp").rename(written)
    threading.Event().wait()


def service_env(endpoints: dict) -> dict[str, str]:
    """What the service's environment needs to export to the stand-in as it exports on Azure ML."""
    return {
        "APPLICATIONINSIGHTS_CONNECTION_STRING": (
            "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
            f"IngestionEndpoint={endpoints['ingestion']}"
        ),
        "MSI_ENDPOINT": endpoints["token"],
        "MSI_SECRET": endpoints["secret"],
        "REQUESTS_CA_BUNDLE": endpoints["ca_bundle"],
        # The exporter spools what it could not send under the temporary folder, per working directory:
        # a fresh one, as a new pod has, so that no earlier run's spool is sent again here.
        "TMPDIR": endpoints["tmp"],
        # The exporter's own usage reports to Microsoft: nothing to reach offline.
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
    }


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
