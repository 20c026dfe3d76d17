"""What the site tells crawlers and browsers about itself: ``/robots.txt``, ``/sitemap.xml`` (or a sitemap index
and its files) and the favicon."""
