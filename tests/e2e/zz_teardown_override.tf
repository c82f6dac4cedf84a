# Written by tests/test_e2e_aws.py into the prod module before it is destroyed: the
# documented way to tear down a protected deployment is to apply
# deletion_protection = false first (the database and load balancer refuse deletion
# and the buckets keep their objects otherwise), then destroy.
variable "deletion_protection" {
  default = false
}
