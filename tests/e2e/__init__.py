"""Helpers of tests/test_e2e_aws.py: the moto server, the EKS gap proxy and the provider override."""
