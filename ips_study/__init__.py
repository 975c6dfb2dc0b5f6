"""ips_study."""
