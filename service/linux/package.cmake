# The Debian package: `cpack -G DEB` in the build directory makes recd_<version>_<arch>.deb of
# everything `cmake --install` installs (recd, recctl, completion, man pages, the user unit and
# its link, the login hooks, /etc/recd/recd.toml, /var/lib/recd), with /usr as its prefix.
# Included by service/CMakeLists.txt.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME recd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "recd maintainers <recd@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "screen and audio recording daemon for every graphical login, remote desktops included")
# The long description; cpack puts the summary before it and indents it as control(5) wants.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "recd runs in each graphical login session (console, xrdp, Amazon DCV) as that session's
user, records its X11 screen, system sound and microphone into H.264 Matroska files, and is
driven by recctl over a per-user socket. The [autostart] section of /etc/recd/recd.toml decides
who is recorded from the moment they log in.")
set(CPACK_DEBIAN_PACKAGE_SECTION video)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Depends from the libraries recd and recctl link (dpkg-shlibdeps, from dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The build's debug information stays in the build tree: the package is a fifth of the size
# and cpack (run by the fleet test) compresses it in a few seconds.
set(CPACK_STRIP_FILES ON)
# What an administrator edits stays theirs across upgrades; dpkg asks before replacing it.
set(recd_conffiles ${CMAKE_CURRENT_BINARY_DIR}/debian/conffiles)
file(WRITE ${recd_conffiles}
     "/etc/recd/recd.toml\n/etc/X11/Xsession.d/90recd\n/etc/xdg/autostart/recd.desktop\n")
# postinst enables recd.service for every user, postrm masks it on removal and forgets it on
# purge: what dh_installsystemduser writes, through deb-systemd-helper (init-system-helpers).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${recd_conffiles} ${CMAKE_CURRENT_LIST_DIR}/debian/postinst ${CMAKE_CURRENT_LIST_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "init-system-helpers (>= 1.65)")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
