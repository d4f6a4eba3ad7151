import ./make-test.nix ({ pkgs, ... }: {
  name = "login";

  machine = { ... }: { };

  testScript = ''
    machine.wait_for_unit("getty@tty1")
  '';
})
