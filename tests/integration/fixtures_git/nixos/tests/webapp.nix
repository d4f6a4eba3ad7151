import ./make-test.nix ({ pkgs, ... }: {
  name = "webapp";

  machine = { pkgs, ... }: {
    services.nginx.enable = true;
    environment.systemPackages = [ pkgs.pyPackages.flask ];
  };

  testScript = ''
    machine.wait_for_unit("nginx")
  '';
})
