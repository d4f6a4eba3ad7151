import ./make-test.nix ({ pkgs, ... }: {
  name = "hello";

  machine = { pkgs, ... }: {
    environment.systemPackages = [ pkgs.hello ];
  };

  testScript = ''
    machine.succeed("hello")
  '';
})
