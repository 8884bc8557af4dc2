using System.Runtime.InteropServices;

namespace ScrapeDo.Lean.Internal;

/// <summary>
/// Makes a file's name in its folder survive a power loss. Forcing a new file's bytes to disk (fsync of the file) does
/// not force its directory entry on Linux: after a crash of the machine (not of the process) the journal, the records
/// file or a content file can be gone although everything written to it was synced, and a journal that vanishes takes
/// with it the only record of the jobs created and billed. POSIX's answer is an fsync of the folder itself, which .NET
/// cannot open as a file (it refuses directories), hence the three libc calls. (On macOS this orders the entry to disk
/// as fsync does there, without F_FULLFSYNC's flush of the drive's own cache.)
/// </summary>
internal static partial class DirectoryEntries
{
    private const int OpenReadOnly = 0;
    private const int Interrupted = 4;  // EINTR: a signal arrived; the sync is asked again
    private const int InvalidArgument = 22;  // EINVAL: a file system that cannot sync a folder
    private const int ReadOnlyFileSystem = 30;  // EROFS

    // Set once the calls turn out not to bind (no "libc" here): every later flush is skipped at once.
    private static volatile bool s_unavailable;

    // O_CLOEXEC, so a child process started at that moment does not inherit the descriptor; its value differs by system.
    private static readonly int OpenFlags = OpenReadOnly | (OperatingSystem.IsLinux() ? 0x80000 : OperatingSystem.IsMacOS() ? 0x1000000 : OperatingSystem.IsFreeBSD() ? 0x100000 : 0);

    /// <summary>
    /// Syncs <paramref name="directory"/>'s entries to disk. A no-op on Windows, whose file systems journal names with
    /// the data a flush forces. Best effort where the folder cannot be opened for reading or its file system cannot
    /// sync a folder (false then); an I/O error of the sync itself is thrown, since what was written may be lost.
    /// </summary>
    /// <exception cref="IOException">The sync failed with an I/O error.</exception>
    public static bool Flush(string directory)
    {
        if (OperatingSystem.IsWindows() || directory.Length == 0 || s_unavailable)
        {
            return false;
        }

        int fd;
        try
        {
            fd = Open(directory, OpenFlags);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // Best effort, as promised: a system without these calls syncs files but not folders.
            s_unavailable = true;
            return false;
        }

        if (fd < 0)
        {
            return false;
        }

        try
        {
            int result;
            int error;
            do
            {
                result = Fsync(fd);
                error = result == 0 ? 0 : Marshal.GetLastPInvokeError();
            }
            while (error == Interrupted);

            if (result == 0)
            {
                return true;
            }

            if (error is InvalidArgument or ReadOnlyFileSystem)
            {
                return false;
            }

            throw new IOException($"The folder '{directory}' could not be synced to disk ({Marshal.GetPInvokeErrorMessage(error)}).");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>The folder a file is in, as <see cref="Flush"/> takes it.</summary>
    public static string FolderOf(string path) => Path.GetDirectoryName(Path.GetFullPath(path)) ?? string.Empty;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
