"""The actions behind the web pages and the JSON API, with their authorization: plain values in (ids, strings,
bytes, paths), plain values out. The web routes adapt requests to these calls."""
