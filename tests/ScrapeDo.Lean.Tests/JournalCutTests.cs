using System.Text;
using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.Tests;

/// <summary>A journal whose chunks were cut early (<see cref="RunOptions.PartialJobDelay"/>) reads back its cuts and
/// still frees what it can.</summary>
public class JournalCutTests
{
    private const int ChunkSize = 10;
    private const int Chunks = 20;
    private const int PerCut = 2;

    [Fact]
    public async Task Delivered_chunks_cut_early_give_up_their_task_ids_like_full_ones()
    {
        // Found in session 20: a delivery was counted against the chunk at index / size, which for chunks cut early is
        // an earlier chunk, so the later ones never gave up their task ids (a journaled service trickling targets would
        // have kept every task id of its run).
        string path = Path.Combine(Path.GetTempPath(), $"scrapedo-cuts-{Guid.NewGuid():N}.jsonl");
        try
        {
            var journal = new StringBuilder("{\"t\":\"run\",\"n\":10}\n");
            for (int c = 0; c < Chunks; c++)
            {
                int first = c * PerCut;
                journal.Append($"{{\"t\":\"cut\",\"c\":{c},\"x\":{first},\"n\":{PerCut}}}\n");
                journal.Append($"{{\"t\":\"submit\",\"c\":{c},\"x\":{first},\"n\":{PerCut},\"at\":\"2026-12-07T21:00:00+00:00\",\"h\":\"0\"}}\n");
                journal.Append($"{{\"t\":\"created\",\"c\":{c},\"job\":\"job-{c}\",\"tasks\":[\"t{first}\",\"t{first + 1}\"]}}\n");
            }

            // Every target delivered but the last chunk's.
            for (int x = 0; x < (Chunks - 1) * PerCut; x++)
            {
                journal.Append($"{{\"t\":\"done\",\"x\":{x}}}\n");
            }

            await File.WriteAllTextAsync(path, journal.ToString());
            await using RunJournal opened = await RunJournal.OpenAsync(path, resume: true, chunkSize: ChunkSize, TestSupport.Timeout());

            Assert.Equal(PerCut, opened.State.CutOf(7));
            Assert.Equal(0, opened.State.CutOf(Chunks));
            Assert.Equal(Chunks - 1, opened.State.LastJournaledChunk);
            Assert.Equal(Chunks - 1, opened.State.RetiredChunks);
            Assert.True(opened.TryGetChunk(Chunks - 1, out JournalChunk? open));
            Assert.Equal(PerCut, open!.TaskIds!.Count);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(3, 0)]
    [InlineData(3, ChunkSize + 1)]
    [InlineData(-1, PerCut)]
    public async Task A_journal_with_an_impossible_cut_is_refused_with_its_line(int chunk, int count)
    {
        // Before the fix these were read as they stood: a cut over the run's job size made a resume send a job larger
        // than the run's limit, and the others were passed over in silence in a journal that is evidently damaged.
        string path = Path.Combine(Path.GetTempPath(), $"scrapedo-cuts-{Guid.NewGuid():N}.jsonl");
        try
        {
            await File.WriteAllTextAsync(path, $"{{\"t\":\"run\",\"n\":{ChunkSize}}}\n{{\"t\":\"cut\",\"c\":{chunk},\"x\":0,\"n\":{count}}}\n");

            var refused = await Assert.ThrowsAsync<InvalidDataException>(async () =>
            {
                await using RunJournal opened = await RunJournal.OpenAsync(path, resume: true, chunkSize: ChunkSize, TestSupport.Timeout());
            });

            Assert.Contains("records an impossible cut at line 2", refused.Message);
            Assert.Contains("it cannot be resumed safely", refused.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
