// MSBuild task (compiled by RoslynCodeTaskFactory) that makes TorchSharp's native shim load on Linux systems whose
// libstdc++ is older than the one it was linked against (Debian 12: GCC 12, GLIBCXX_3.4.30; TorchSharp 0.107 needs
// GLIBCXX_3.4.32 for a single symbol, std::ios_base_library_init(), a link-time anchor that no relocation binds).
//
// What it does, on the build output only (never the NuGet cache):
//   1. Reads the version definitions of the system libstdc++.so.6 (from `ldconfig -p`, then standard paths).
//   2. For every libstdc++ version that libLibTorchSharp.so requires and the system lacks, checks in .dynsym,
//      .gnu.version and every SHT_RELA section that no relocation refers to a symbol of that version.
//   3. If so, sets VER_FLG_WEAK on that .gnu.version_r entry: the dynamic loader then accepts the missing version.
//      If a missing version IS bound by a relocation, the build fails with a clear error instead (a weak flag
//      would only turn a load error into a crash).
// Where the system libstdc++ has every required version (GCC >= 13), the task changes nothing.
#nullable enable
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class PatchTorchSharpNativeLibrary : Task
{
    private const ushort VerFlagWeak = 0x2;
    private const uint ShtRela = 4;
    private const uint ShtDynsym = 11;
    private const uint ShtGnuVerdef = 0x6ffffffd;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;

    /// <summary>The copies of libLibTorchSharp.so in the build or publish output.</summary>
    [Required]
    public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>Optional explicit path of the libstdc++.so.6 to compare against (tests, cross builds).</summary>
    public string? SystemLibStdCxx { get; set; }

    public override bool Execute()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            return true;
        }

        string? libstdcxx = string.IsNullOrEmpty(SystemLibStdCxx) ? FindSystemLibStdCxx() : SystemLibStdCxx;
        if (libstdcxx is null || !File.Exists(libstdcxx))
        {
            Log.LogMessage(MessageImportance.Normal, "TorchSharp native fix: no system libstdc++.so.6 found; nothing to do.");
            return true;
        }

        HashSet<string> available;
        try
        {
            available = ReadVersionDefinitions(File.ReadAllBytes(libstdcxx));
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            Log.LogWarning("TorchSharp native fix: cannot read the version definitions of {0}: {1}", libstdcxx, ex.Message);
            return true;
        }

        foreach (ITaskItem item in Libraries)
        {
            string path = item.GetMetadata("FullPath");
            if (!File.Exists(path))
            {
                continue;
            }

            try
            {
                PatchOne(path, libstdcxx, available);
            }
            catch (InvalidDataException ex)
            {
                Log.LogError("TorchSharp native fix: {0}: {1}", path, ex.Message);
            }
        }

        return !Log.HasLoggedErrors;
    }

    private void PatchOne(string path, string libstdcxx, HashSet<string> available)
    {
        byte[] image = File.ReadAllBytes(path);
        Elf elf = Elf.Parse(image);
        Section? verneed = elf.Find(ShtGnuVerneed);
        Section? versym = elf.Find(ShtGnuVersym);
        Section? dynsym = elf.Find(ShtDynsym);
        if (verneed is null || versym is null || dynsym is null)
        {
            return;
        }

        Section dynstr = elf.Sections[(int)verneed.Link];
        Section symstr = elf.Sections[(int)dynsym.Link];
        var patched = new List<string>();

        long needOffset = verneed.Offset;
        while (true)
        {
            ushort count = ReadU16(image, needOffset + 2);
            string file = ReadString(image, dynstr.Offset + ReadU32(image, needOffset + 4));
            uint auxOffset = ReadU32(image, needOffset + 8);
            uint nextNeed = ReadU32(image, needOffset + 12);

            long aux = needOffset + auxOffset;
            for (int i = 0; i < count; i++)
            {
                ushort flags = ReadU16(image, aux + 4);
                ushort index = ReadU16(image, aux + 6);
                string version = ReadString(image, dynstr.Offset + ReadU32(image, aux + 8));
                uint nextAux = ReadU32(image, aux + 12);

                if (file.StartsWith("libstdc++.so", StringComparison.Ordinal) && !available.Contains(version) &&
                    (flags & VerFlagWeak) == 0)
                {
                    List<string> bound = BoundSymbolsOfVersion(image, elf, dynsym, versym, symstr, index, out List<string> all);
                    if (bound.Count > 0)
                    {
                        throw new InvalidDataException(
                            $"it requires {version} from libstdc++, which the system library {libstdcxx} lacks, and binds " +
                            $"{string.Join(", ", bound)} of that version. Install a libstdc++ with {version} (GCC 13 or newer).");
                    }

                    WriteU16(image, aux + 4, (ushort)(flags | VerFlagWeak));
                    patched.Add($"{version} (symbols: {(all.Count == 0 ? "none" : string.Join(", ", all))}; none is bound by a relocation)");
                }

                if (nextAux == 0)
                {
                    break;
                }

                aux += nextAux;
            }

            if (nextNeed == 0)
            {
                break;
            }

            needOffset += nextNeed;
        }

        if (patched.Count == 0)
        {
            Log.LogMessage(MessageImportance.Low, "TorchSharp native fix: {0} needs nothing that {1} lacks.", path, libstdcxx);
            return;
        }

        // Write a new file and move it over the old one, so that a hard link into a package cache is never modified.
        string temp = path + ".patching";
        File.WriteAllBytes(temp, image);
        File.Delete(path);
        File.Move(temp, path);
        Log.LogMessage(
            MessageImportance.High,
            "TorchSharp native fix: {0}: marked weak {1}, because {2} lacks it.",
            path,
            string.Join("; ", patched),
            libstdcxx);
    }

    private static List<string> BoundSymbolsOfVersion(
        byte[] image, Elf elf, Section dynsym, Section versym, Section symstr, ushort versionIndex, out List<string> all)
    {
        int symbolCount = (int)(dynsym.Size / 24);
        var ofVersion = new Dictionary<uint, string>();
        all = new List<string>();
        for (uint s = 0; s < symbolCount; s++)
        {
            ushort v = (ushort)(ReadU16(image, versym.Offset + (2 * s)) & 0x7fff);
            if (v == versionIndex)
            {
                string name = ReadString(image, symstr.Offset + ReadU32(image, dynsym.Offset + (24 * s)));
                ofVersion[s] = name;
                all.Add(name);
            }
        }

        var bound = new List<string>();
        foreach (Section rela in elf.Sections)
        {
            if (rela.Type != ShtRela || elf.Sections[(int)rela.Link] != dynsym)
            {
                continue;
            }

            for (long r = rela.Offset; r + 24 <= rela.Offset + rela.Size; r += 24)
            {
                uint symbol = (uint)(ReadU64(image, r + 8) >> 32);
                if (ofVersion.TryGetValue(symbol, out string? name) && !bound.Contains(name))
                {
                    bound.Add(name);
                }
            }
        }

        return bound;
    }

    private static HashSet<string> ReadVersionDefinitions(byte[] image)
    {
        Elf elf = Elf.Parse(image);
        var names = new HashSet<string>(StringComparer.Ordinal);
        Section? verdef = elf.Find(ShtGnuVerdef);
        if (verdef is null)
        {
            return names;
        }

        Section strtab = elf.Sections[(int)verdef.Link];
        long def = verdef.Offset;
        while (true)
        {
            uint auxOffset = ReadU32(image, def + 12);
            uint next = ReadU32(image, def + 16);
            names.Add(ReadString(image, strtab.Offset + ReadU32(image, def + auxOffset)));
            if (next == 0)
            {
                break;
            }

            def += next;
        }

        return names;
    }

    private static string? FindSystemLibStdCxx()
    {
        string arch = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "x86-64",
            Architecture.Arm64 => "AArch64",
            _ => string.Empty,
        };

        foreach (string ldconfig in new[] { "/sbin/ldconfig", "/usr/sbin/ldconfig" })
        {
            if (!File.Exists(ldconfig))
            {
                continue;
            }

            try
            {
                var start = new ProcessStartInfo(ldconfig, "-p") { RedirectStandardOutput = true, UseShellExecute = false };
                using Process? process = Process.Start(start);
                if (process is null)
                {
                    continue;
                }

                string output = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                foreach (string line in output.Split('\n'))
                {
                    string trimmed = line.Trim();
                    int arrow = trimmed.IndexOf("=>", StringComparison.Ordinal);
                    if (trimmed.StartsWith("libstdc++.so.6 ", StringComparison.Ordinal) && arrow > 0 &&
                        (arch.Length == 0 || trimmed.IndexOf(arch, StringComparison.Ordinal) >= 0))
                    {
                        return trimmed.Substring(arrow + 2).Trim();
                    }
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Fall through to the standard locations.
            }
        }

        foreach (string candidate in new[]
                 {
                     "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
                     "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
                 })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static ushort ReadU16(byte[] b, long o) => Check(b, o, 2) ? BitConverter.ToUInt16(b, (int)o) : (ushort)0;

    private static uint ReadU32(byte[] b, long o) => Check(b, o, 4) ? BitConverter.ToUInt32(b, (int)o) : 0;

    private static ulong ReadU64(byte[] b, long o) => Check(b, o, 8) ? BitConverter.ToUInt64(b, (int)o) : 0;

    private static void WriteU16(byte[] b, long o, ushort value)
    {
        Check(b, o, 2);
        b[o] = (byte)value;
        b[o + 1] = (byte)(value >> 8);
    }

    private static bool Check(byte[] b, long offset, int size)
    {
        if (offset < 0 || offset + size > b.Length)
        {
            throw new InvalidDataException($"ELF structure points outside the file (offset {offset}).");
        }

        return true;
    }

    private static string ReadString(byte[] b, long offset)
    {
        Check(b, offset, 1);
        int end = Array.IndexOf(b, (byte)0, (int)offset);
        if (end < 0)
        {
            throw new InvalidDataException("Unterminated ELF string.");
        }

        return Encoding.ASCII.GetString(b, (int)offset, end - (int)offset);
    }

    private sealed class Section
    {
        public uint Type;
        public long Offset;
        public long Size;
        public uint Link;
    }

    private sealed class Elf
    {
        public List<Section> Sections = new List<Section>();

        public Section? Find(uint type) => Sections.Find(s => s.Type == type);

        public static Elf Parse(byte[] b)
        {
            if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F')
            {
                throw new InvalidDataException("not an ELF file.");
            }

            if (b[4] != 2 || b[5] != 1)
            {
                throw new InvalidDataException("only 64-bit little-endian ELF files are supported.");
            }

            long shoff = (long)ReadU64(b, 0x28);
            ushort shentsize = ReadU16(b, 0x3A);
            ushort shnum = ReadU16(b, 0x3C);
            var elf = new Elf();
            for (int i = 0; i < shnum; i++)
            {
                long h = shoff + ((long)i * shentsize);
                elf.Sections.Add(new Section
                {
                    Type = ReadU32(b, h + 4),
                    Offset = (long)ReadU64(b, h + 0x18),
                    Size = (long)ReadU64(b, h + 0x20),
                    Link = ReadU32(b, h + 0x28),
                });
            }

            foreach (Section s in elf.Sections)
            {
                if (s.Link >= elf.Sections.Count)
                {
                    throw new InvalidDataException("section link out of range.");
                }
            }

            return elf;
        }
    }
}
