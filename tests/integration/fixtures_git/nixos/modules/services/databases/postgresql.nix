{ config, pkgs, ... }:

{
  services.postgresql.enable = false;

  environment.etc."postgresql.conf" = if config.services.postgresql.enable then "port = 5432" else "";
}
