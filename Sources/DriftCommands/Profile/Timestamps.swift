import Reports

/// Parses the timestamps found in data files into milliseconds since the Unix epoch (UTC).
///
/// Accepted: ISO 8601 / RFC 3339 date-times with `T` or a space between date and time,
/// optional fractional seconds and an optional `Z` or `±hh:mm` / `±hhmm` offset (no offset
/// means UTC); a bare date (`2024-05-09`, midnight UTC); and epoch numbers — seconds when
/// below 10¹¹ (before the year 5138), milliseconds otherwise.
enum Timestamps {
    static func milliseconds(_ text: Substring) -> Int64? {
        let trimmed = text.trimmingCharacters(in: " ")
        if trimmed.isEmpty { return nil }
        if let number = Double(trimmed), number.isFinite, trimmed.first != "+" {
            let ms = abs(number) < 1e11 ? number * 1000 : number
            guard abs(ms) < 9e15 else { return nil }
            return Int64(ms.rounded(.down))
        }
        return iso8601(Array(trimmed.utf8))
    }

    static func iso8601(_ b: [UInt8]) -> Int64? {
        var i = 0
        func digits(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var value = 0
            for k in 0..<n {
                let c = b[i + k]
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            i += n
            return value
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(45), let month = digits(2), expect(45), let day = digits(2),
            (1...12).contains(month), (1...daysIn(month, year)).contains(day)
        else { return nil }
        var seconds = 0
        var millis = 0
        var offset = 0
        if i < b.count {
            guard b[i] == 84 || b[i] == 116 || b[i] == 32 else { return nil }  // T, t, space
            i += 1
            guard let hour = digits(2), expect(58), let minute = digits(2), hour < 24, minute < 60 else { return nil }
            seconds = hour * 3600 + minute * 60
            if expect(58) {
                guard let second = digits(2), second < 61 else { return nil }
                seconds += min(second, 59)
                if expect(46) || expect(44) {
                    var scale = 100
                    var any = false
                    while i < b.count, b[i] >= 48, b[i] <= 57 {
                        millis += Int(b[i] - 48) * scale
                        scale /= 10
                        any = true
                        i += 1
                    }
                    guard any else { return nil }
                }
            }
            if i < b.count {
                if b[i] == 90 || b[i] == 122 {  // Z
                    i += 1
                } else if b[i] == 43 || b[i] == 45 {  // + -
                    let sign = b[i] == 43 ? 1 : -1
                    i += 1
                    guard let oh = digits(2), oh <= 14 else { return nil }
                    _ = expect(58)
                    let om = digits(2) ?? 0
                    offset = sign * (oh * 3600 + om * 60)
                } else {
                    return nil
                }
            }
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year, month, day)
        return (Int64(days) * 86_400 + Int64(seconds - offset)) * 1000 + Int64(millis)
    }

    static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `2024-05-09T22:27:20Z`; see ``ISOTime/format(milliseconds:)``.
    static func iso(_ ms: Int64) -> String { ISOTime.format(milliseconds: ms) }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> Substring {
        var s = self
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return s
    }
}
