using ScrapeDo.Lean.Internal;

namespace ScrapeDo.Lean.Tests;

/// <summary>The folder sync behind the journal's and the CLI's new files (what it makes durable is not observable here).</summary>
public class DirectoryEntriesTests
{
    [Fact]
    public void An_existing_folder_is_synced_and_a_missing_one_is_skipped_without_an_error()
    {
        string folder = Directory.CreateTempSubdirectory("scrapedo-dir-").FullName;
        try
        {
            Assert.Equal(!OperatingSystem.IsWindows(), DirectoryEntries.Flush(folder));
            Assert.False(DirectoryEntries.Flush(Path.Combine(folder, "missing")));
            Assert.False(DirectoryEntries.Flush(string.Empty));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void The_folder_of_a_relative_path_is_absolute()
    {
        Assert.Equal(Path.GetFullPath("."), DirectoryEntries.FolderOf("records.jsonl"));
        Assert.Equal("/a/b", DirectoryEntries.FolderOf("/a/b/c.jsonl").Replace('\\', '/')[^4..]);
    }
}
