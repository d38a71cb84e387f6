"""Images by URL: data URLs decoded, temporary ``https`` URLs fetched at once.

A fetched URL gets neither the key nor the attribution headers, no redirects
are followed, the body is capped, and only OpenRouter's host or a public
address is contacted (pinned once resolved, so DNS cannot switch it to a
private one between the check and the connection). Error messages never
contain the URL: it is temporary, and messages reach people.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

import httpx

from generation.openrouter import media
from generation.openrouter.deadline import Deadline
from generation.openrouter.errors import ErrorKind, OpenRouterError
from generation.openrouter.transport import Transport
from generation.openrouter.types import GeneratedImage

FETCH_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=10.0, pool=10.0)
# A fetch right after an answer that arrived just before the call's deadline
# still gets this long: the image is paid for, and the caller's own limit
# (the Celery time limit) leaves a margin above the call's bound.
FETCH_GRACE_SECONDS = 20.0
_EXPIRED = frozenset({403, 404, 410})


def _is_public(address: str) -> bool:
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            address.split("%", 1)[0]
        )
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def unreadable_image(detail: str) -> OpenRouterError:
    """The answer held image data that is not an image (it was paid for)."""
    return OpenRouterError(
        ErrorKind.MALFORMED,
        f"the image data could not be decoded ({detail})",
        retryable=False,
        may_be_charged=True,
    )


class ImageFetcher(Transport):
    def _image_from_url(self, url: str, deadline: Deadline | None = None) -> GeneratedImage:
        """The image a URL holds; raises ``OpenRouterError`` (``malformed`` for
        a broken data URL, ``upstream`` for a fetch that failed), never
        retryable: the generation was paid for."""
        if media.is_data_url(url):
            try:
                return media.decode_data_url(url)
            except ValueError as exc:
                raise unreadable_image(str(exc)) from exc
        return self._fetch_image(url, deadline)

    def _fetch_image(self, url: str, deadline: Deadline | None) -> GeneratedImage:
        def failure(message: str) -> OpenRouterError:
            # The generation succeeded and was paid for; retrying it would pay again.
            return OpenRouterError(
                ErrorKind.UPSTREAM,
                f"the generated image could not be downloaded ({message})",
                retryable=False,
                may_be_charged=True,
                secret=self._api_key,
            )

        try:
            target = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise failure("its address is not a valid URL") from exc
        headers: dict[str, str] = {"Accept": "image/*"}
        extensions: dict[str, Any] = {}
        host = target.host
        if target.scheme not in ("http", "https") or not host:
            raise failure("its address is not an http or https URL")
        if not self._on_api_host(target):
            if target.scheme != "https":
                raise failure("only https image addresses are fetched")
            port = target.port or 443
            try:
                addresses = list(self._resolver(host, port))
            except OSError as exc:
                raise failure(f"the host {host} could not be resolved") from exc
            if not addresses or not all(_is_public(address) for address in addresses):
                raise failure(f"the host {host} is not a public address")
            headers["Host"] = host if target.port is None else f"{host}:{target.port}"
            extensions["sni_hostname"] = host
            target = target.copy_with(host=addresses[0])
        left = deadline.remaining() if deadline is not None else self.max_duration
        fetch_deadline = Deadline(max(left, FETCH_GRACE_SECONDS))
        timeout = FETCH_TIMEOUT
        if fetch_deadline.seconds < (timeout.read or 0):
            timeout = httpx.Timeout(
                connect=timeout.connect,
                read=fetch_deadline.seconds,
                write=timeout.write,
                pool=timeout.pool,
            )
        request = self._http.build_request(
            "GET", target, headers=headers, timeout=timeout, extensions=extensions
        )
        started = time.monotonic()
        try:
            response = self._http.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise failure("the image host did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise failure("the image host could not be reached") from exc
        try:
            status = response.status_code
            if status in _EXPIRED:
                raise failure(f"HTTP {status}: the temporary link had expired or was refused")
            if status != 200:
                raise failure(f"HTTP {status} from the image host")
            fetch_deadline.watch(response)
            try:
                body = self._read_capped(response, self.max_response_bytes, fetch_deadline)
            except OpenRouterError as exc:
                raise failure(exc.message) from exc
            except httpx.HTTPError as exc:
                reason = (
                    f"it took longer than {time.monotonic() - started:.0f} s"
                    if fetch_deadline.fired
                    else "the download was cut off"
                )
                raise failure(reason) from exc
            finally:
                fetch_deadline.cancel()
        finally:
            response.close()
        if not body:
            raise failure("the image host sent an empty body")
        data = bytes(body)
        del body
        return GeneratedImage(
            data, media.media_type_for(data, response.headers.get("content-type"))
        )

    def _image_from_b64(
        self, text: str, declared: str | None = None, *, strict: bool = False
    ) -> GeneratedImage:
        try:
            return media.decode_b64_image(text, declared, strict=strict)
        except ValueError as exc:
            raise unreadable_image(str(exc)) from exc
