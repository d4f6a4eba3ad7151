import ./make-test.nix ({ pkgs, ... }: {
  name = "postgresql";

  machine = { pkgs, ... }: {
    services.postgresql.enable = true;
  };

  testScript = ''
    machine.wait_for_unit("postgresql")
  '';
})
