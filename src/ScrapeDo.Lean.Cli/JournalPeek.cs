using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.Cli;

/// <summary>
/// Reads, without writing or locking it, what <c>--resume</c> needs to know of a journal before anything is sent: how
/// many inputs it records as delivered (to check <c>--output</c> against) and the targets per job it was written
/// with. The runner opens the journal itself later; this is a read-only look.
/// </summary>
internal static class JournalPeek
{
    /// <summary>What a journal records, or null when the file cannot be read as a journal (the runner then reports
    /// what is wrong with it, in its own words). A torn last line is ignored, as the runner does.</summary>
    /// <param name="Delivered">Distinct input indices with a <c>done</c> entry.</param>
    /// <param name="TargetsPerJob">The run's targets per job, from its run line (null if it has none).</param>
    /// <param name="JobIds">Every job the run created or adopted (its <c>created</c> entries): a record of another
    /// job in --output was written by another run.</param>
    public readonly record struct Summary(long Delivered, int? TargetsPerJob, IReadOnlySet<string> JobIds);

    /// <summary>Reads the journal at <paramref name="path"/> once (see <see cref="Summary"/>).</summary>
    public static Summary? Read(string path)
    {
        // The journal's own bitmap, so a journal of millions of inputs is counted in flat memory and an index journaled
        // twice counts once.
        var state = new JournalState();
        int? targetsPerJob = null;
        var jobIds = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0, FileOptions.SequentialScan);
            RunJournal.ReadEntries(file, path, (entry, _) =>
            {
                if (entry is { T: "done", Index: long index })
                {
                    state.Delivered(index);
                }
                else if (entry is { T: "run", Count: int n })
                {
                    targetsPerJob = n;
                }
                else if (entry is { T: "created", JobId: string jobId })
                {
                    jobIds.Add(jobId);
                }
            });
            return new Summary(state.Summary().Delivered, targetsPerJob, jobIds);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return null;
        }
    }
}
