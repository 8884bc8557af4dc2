using System.Runtime.InteropServices;

namespace ScrapeDo.Lean.Internal;

/// <summary>
/// Makes a file's name in its folder survive a power loss. Forcing a new file's bytes to disk (fsync of the file) does
/// not force its directory entry on Linux: after a crash of the machine (not of the process) the journal, the records
/// file or a content file can be gone although everything written to it was synced, and a journal that vanishes takes
/// with it the only record of the jobs created and billed. POSIX's answer is an fsync of the folder itself, which .NET
/// cannot open as a file (it refuses directories), hence the three libc calls.
/// </summary>
internal static partial class DirectoryEntries
{
    private const int OpenReadOnly = 0;
    private const int InvalidArgument = 22;  // EINVAL: a file system that cannot sync a folder
    private const int ReadOnlyFileSystem = 30;  // EROFS

    /// <summary>
    /// Syncs <paramref name="directory"/>'s entries to disk. A no-op on Windows, whose file systems journal names with
    /// the data a flush forces. Best effort where the folder cannot be opened for reading or its file system cannot
    /// sync a folder (false then); an I/O error of the sync itself is thrown, since what was written may be lost.
    /// </summary>
    /// <exception cref="IOException">The sync failed with an I/O error.</exception>
    public static bool Flush(string directory)
    {
        if (OperatingSystem.IsWindows() || directory.Length == 0)
        {
            return false;
        }

        int fd = Open(directory, OpenReadOnly);
        if (fd < 0)
        {
            return false;
        }

        try
        {
            if (Fsync(fd) == 0)
            {
                return true;
            }

            int error = Marshal.GetLastPInvokeError();
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
