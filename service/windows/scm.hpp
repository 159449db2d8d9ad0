#pragma once
// `recd-service install` and `recd-service uninstall`: registering with the service control
// manager. Run by an administrator from a console; print what they did; return main's exit
// code.

namespace rec {

// The SCM's name for the service (`sc query recd`, `net stop recd`).
inline constexpr const wchar_t* service_name = L"recd";

int install_service();
int uninstall_service();

}  // namespace rec
