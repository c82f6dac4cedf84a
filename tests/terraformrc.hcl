# Terraform CLI configuration for the tests: providers come only from the local
# filesystem mirror (hashicorp/aws 5.100.0); nothing is downloaded.
provider_installation {
  filesystem_mirror {
    path = "/opt/tf-plugins"
  }
}
