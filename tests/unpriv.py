# SPDX-License-Identifier: MIT
"""Running the build's airlock as uid 65534, for the tests whose point is a permission.

uid 65534 may not reach the build tree: a checkout under /root or in a mktemp -d
folder has a mode-0700 parent. So it runs copies of the CLI, the library the CLI
finds beside itself ($ORIGIN) and the helper, from a world-readable folder."""
import os
import shutil


def unprivileged(airlock, folder):
    """Copies what the run needs into folder/bin (once); returns (command prefix, environment)."""
    bin_dir = os.path.join(folder, "bin")
    build = os.path.dirname(airlock)
    if not os.path.isdir(bin_dir):
        os.mkdir(bin_dir, 0o755)
        soname = os.readlink(os.path.join(build, "libairlock.so"))  # libairlock.so.N, whatever N is
        for src in (airlock, os.path.join(build, soname), os.path.join(build, "airlock-zygote")):
            dst = os.path.join(bin_dir, os.path.basename(src))
            shutil.copy(src, dst)
            os.chmod(dst, 0o755)
    env = dict(os.environ, AIRLOCK_ZYGOTE=os.path.join(bin_dir, "airlock-zygote"))
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
           os.path.join(bin_dir, os.path.basename(airlock))]
    return cmd, env
