using Idefics3.Runtime;

namespace Idefics3.Tests.Runtime;

public sealed class ProcStatusTests
{
    [Fact]
    public void Values_padded_with_spaces_or_a_tab_are_read_in_bytes()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "MemTotal:       24560988 kB\nVmHWM:\t19000123 kB\nThreads:\t7\n");
            Assert.Equal(24560988L * 1024, ProcStatus.ReadBytes(file, "MemTotal"));
            Assert.Equal(19000123L * 1024, ProcStatus.ReadBytes(file, "VmHWM"));
            Assert.Equal(7, ProcStatus.ReadBytes(file, "Threads"));
            Assert.Null(ProcStatus.ReadBytes(file, "MemAvailable"));
            Assert.Null(ProcStatus.ReadBytes(file + ".missing", "MemTotal"));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
