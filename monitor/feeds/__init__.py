"""Getting feeds in: fetch (I/O with caps and deadlines), parse (bytes -> Items), article text."""

from monitor.feeds.article import ArticleFetcher
from monitor.feeds.fetch import Fetcher, FetchResult, make_client
from monitor.feeds.netguard import BlockedAddressError, is_public_address
from monitor.feeds.parse import parse_feed

__all__ = [
    "ArticleFetcher",
    "BlockedAddressError",
    "FetchResult",
    "Fetcher",
    "is_public_address",
    "make_client",
    "parse_feed",
]
