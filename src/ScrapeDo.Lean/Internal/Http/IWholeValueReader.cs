namespace ScrapeDo.Lean.Internal.Http;

/// <summary>
/// Marks a hand-written converter that reads its whole value in one call: the task and job readers, and every
/// <see cref="IBufferedBodyReader{T}"/> (which reads the whole body itself). The serializer gathers such a value
/// completely before calling it, and while it streams a body it scans everything gathered so far again each time its
/// buffer grows: a 10 MB task of escaped HTML streamed that way cost about 2.4 times the same bytes parsed from one
/// buffer (docs/benchmarks.md, issue 14 target 2). So a body meant for one is read whole into a pooled buffer first
/// (<see cref="ApiPipeline.ReadWholeAsync"/>) and parsed from there, by the pipeline when the answer has no length and
/// by the webhook receiver always.
/// </summary>
internal interface IWholeValueReader
{
}
