/**
 * The bundled blocklist (NIST SP 800-63B-4 §3.1.1.2 SHALL; ASVS 4.0.3 V2.1.7): frequent passwords from public leak
 * rankings, keyboard walks, digit runs, well-known passphrases, and the padded forms people use to reach a 15-character
 * minimum ("password" + "1234567"). All entries are lower case and NFC; look up `candidate.toLowerCase()`.
 *
 * It is a floor, not a breach corpus: add a larger list (for example a k-anonymity lookup against a breached-password
 * service, ASVS 5.0 V6.2.12) through the `blocklist` option of `checkPasswordPolicy`.
 */

// Frequent passwords of any length: needed as such when minLength is lowered to 8 (multi-factor use), and as the
// building blocks recognized inside repeated and padded passwords.
const FREQUENT = `
123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball abc123 football monkey
letmein 696969 shadow master 666666 qwertyuiop 123321 mustang 1234567890 michael 654321 superman 1qaz2wsx 7777777
121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh hunter buster soccer harley batman andrew
tigger sunshine iloveyou 2000 charlie robert thomas hockey ranger daniel starwars klaster 112233 george computer
michelle jessica pepper 1111 zxcvbn 555555 11111111 131313 freedom 777777 pass maggie 159753 aaaaaa ginger princess
joshua cheese amanda summer love ashley nicole chelsea biteme matthew access yankees 987654321 dallas austin thunder
taylor matrix william corvette hello martin heather secret merlin diamond 1234qwer gfhjkm hammer silver 222222
88888888 anthony justin test bailey q1w2e3r4t5 patrick internet scooter orange 11111 golfer cookie richard samantha
bigdog guitar jackson whatever mickey chicken sparky snoopy maverick phoenix camaro peanut morgan welcome falcon
cowboy ferrari samsung andrea smokey steelers joseph mercedes dakota arsenal eagles melissa boomer booboo spider
nascar monster tigers yellow xxxxxx 123123123 gateway marina diablo bulldog qwer1234 compaq purple hardcore banana
junior hannah 123654 porsche lakers iceman money cowboys 987654 london tennis 999999 ncc1701 coffee scooby 0000
miller boston q1w2e3r4 brandon yamaha chester mother forever johnny edward 333333 oliver redsox player nikita knight
fender barney midnight please brandy chicago badboy slayer rangers charles angel flower bigdaddy rabbit wizard bigdick
jasper enter rachel chris steven winner adidas victoria natasha 1q2w3e4r jasmine winter prince panties marine ghbdtn
fishing cocacola casper james 232323 raiders 888888 marlboro gandalf asdfasdf crystal 87654321 12344321 golden
8675309 enjoy gemini apples august canada blazer cumming hunting kitty rainbow 112233 arthur cream calvin shaved
surfer samson kelly paul mine king racing 5555 eagle hentai newyork little redwings smith sticky cocacola animal
broncos private skippy marvin blondes enjoy girl apollo parker qwert time sydney women voodoo magnum juice abgrtyu
777777 dreams maxwell music rush2112 russia scorpion rebecca tester mistress phantom billy 6666 albert 111111
password1 password12 password123 password1234 passw0rd p@ssw0rd p@ssword pa55word pa$$word password! password1!
admin admin123 administrator root toor changeme default guest user test123 testing qwerty123 qwerty1 1q2w3e 1q2w3e4r5t
abcd1234 abcdef abcdefg abcdefgh aa123456 a123456 a12345 123abc 1234abcd iloveyou1 iloveu loveme lovely babygirl
monkey1 dragon1 football1 baseball1 superman1 princess1 sunshine1 shadow1 master1 michael1 jessica1 charlie1 welcome1
letmein1 trustno1 starwars1 whatever1 freedom1 azerty azertyuiop qwertz qwertzuiop 1qazxsw2 zaq12wsx zaq1xsw2
qazwsxedc qweasdzxc asdfghjkl zxcvbnm1 asdf1234 qwe123 123qweasd 1qaz2wsx3edc 123456a 123456q 12qwaszx 147258369
159357 741852963 963852741 789456123 456789 11223344 121314 123456123 101010 010203 1010 2020 2021 2022 2023 2024
2025 1990 1991 1992 1993 1994 1995 1996 1997 1998 1999 1980 1985 1987 1988 1989 666 69 7777 9999 12341234
linkedin facebook google youtube twitter instagram yahoo hotmail gmail microsoft apple windows linux ubuntu
mypassword mypass secret123 letmein123 welcome123 hello123 sunshine123 monkey123 dragon123 master123 soccer123
football123 baseball123 princess123 michael123 charlie123 qwerty12345 iloveyou123 pokemon pikachu naruto minecraft
fortnite roblox starcraft warcraft zelda mario superman batman spiderman ironman pokemon1 blink182 metallica nirvana
liverpool manchester chelsea1 arsenal1 barcelona realmadrid juventus ronaldo messi neymar beckham jordan23 kobe24
lebron23 iverson michaeljordan tiffany bandit hallo passwort geheim schatz qwertz123 motdepasse soleil bonjour
contrasena contraseña senha amor amore ciao tesoro parola123 haslo qwerty1234 zaq12wsx 123456789a
`;

// Long passwords and passphrases people pick when asked for 15 or more characters.
const LONG = `
123456789012345 1234567890123456 12345678901234567890 098765432109876 1111111111111111 0000000000000000
123123123123123 121212121212121 112233445566778 111222333444555 123412341234123 147258369147258 159753159753159
qwertyuiopasdfg qwertyuiopasdfgh qwertyuiopasdfghjkl qwertyuiopasdfghjklzxcvbnm qwertyuiop123456 qwertyuiop12345
asdfghjklzxcvbnm asdfghjkl123456 zxcvbnmasdfghjkl 1q2w3e4r5t6y7u8i 1q2w3e4r5t6y7u8i9o0p 1qaz2wsx3edc4rfv
1qaz2wsx3edc4rfv5tgb 1qaz2wsx3edc4rfv5tgb6yhn zaq12wsxcde34rfv zaq1xsw2cde3vfr4 !qaz2wsx#edc4rfv qazwsxedcrfvtgb
qazwsxedcrfvtgbyhn q1w2e3r4t5y6u7i8 q1w2e3r4t5y6u7i8o9p0 qweasdzxcqweasdzxc 1234qwerasdfzxcv qwer1234asdf5678
azertyuiopqsdfgh azertyuiopqsdfghjklm qwertzuiopasdfgh abcdefghijklmnop abcdefghijklmnopqrstuvwxyz
abcdefghijklmno abc123abc123abc123 abcd1234abcd1234 aaaaaaaaaaaaaaa passwordpassword passwordpassword1
password1234567 password12345678 password123456789 password1234567890 password123password mypassword123456
thisismypassword thisismypassword1 mysecretpassword verysecurepassword supersecretpassword securepassword123
strongpassword123 strongpassword1 mynewpassword123 newpassword12345 changemechangeme changeme12345678
letmeinletmeinletmein letmein123456789 welcome123456789 welcome12345678 welcometothejungle administrator123
administrator1234 adminadminadmin adminpassword123 rootpassword1234 iloveyouiloveyou iloveyou12345678
iloveyou123456789 iloveyouforever ilovemyfamily ilovemyfamily123 ilovemyboyfriend ilovemygirlfriend
ilovemyhusband ilovemywife ilovemykids ilovemymom ilovemymother ilovemydad ilovemydog ilovemycat ilovejesus
ilovejesuschrist jesuslovesme jesusislord jesuschrist123 godisgood123 godisgoodallthetime trustno1trustno1
qwerty123456789 qwerty1234567890 qwertyqwertyqwerty qwerty12345678 1234567890qwerty 1234567890qwertyuiop
football12345678 baseball12345678 basketball123456 basketball12345 soccer123456789 superman12345678
spiderman123456 batman123456789 starwars12345678 pokemon123456789 minecraft123456 minecraft12345678
sunshine12345678 princess12345678 michael12345678 dragon123456789 monkey123456789 shadow123456789
correcthorsebatterystaple thequickbrownfoxjumpsoverthelazydog thequickbrownfox jumpsoverthelazydog
maryhadalittlelamb tobeornottobe tobeornottobethatisthequestion onetwothreefourfive onetwothreefour
iamthebest123 iamthegreatest youshallnotpass maytheforcebewithyou hellohellohello helloworld123456
helloworld12345 hellokitty12345 happybirthday123 merrychristmas123 happynewyear2024 summertime123456
wintertime123456 springtime123456 autumnleaves123 chocolatecake123 lovelovelove123 babygirl12345678
princessprincess sweetheart12345 blessed123456789 blessedandhighlyfavored blink182blink182 linkinpark12345
manchesterunited manutd1234567890 liverpoolfc12345 barcelona1234567 realmadrid123456 chelseafc1234567
arsenalfc1234567 juventus12345678 lakers1234567890 cowboys123456789 steelers12345678 yankees123456789
abcdefg123456789 abcdefgh12345678 aa12345678901234 a123456789012345 123456789abcdefg 1234567890abcdef
123456789qwerty 123456789asdfghj 987654321qwerty zxcvbnm123456789 asdf1234asdf1234 1q2w3e1q2w3e1q2w
p@ssw0rd12345678 p@ssw0rdp@ssw0rd passw0rdpassw0rd passw0rd1234567 pa55w0rd12345678 p4ssw0rd12345678
`;

const PHRASES = [
  "correct horse battery staple",
  "the quick brown fox jumps over the lazy dog",
  "the quick brown fox",
  "mary had a little lamb",
  "to be or not to be",
  "to be or not to be that is the question",
  "may the force be with you",
  "you shall not pass",
  "i love you forever",
  "i love my family",
  "i love you so much",
  "let me in please",
  "hello world hello world",
  "password password",
  "this is my password",
  "this is a password",
  "my password is password",
  "one two three four five",
  "happy birthday to you",
  "twinkle twinkle little star",
  "all work and no play",
  "all work and no play makes jack a dull boy",
  "never gonna give you up",
  "keep calm and carry on",
  "just do it just do it",
  "god is good all the time",
  "jesus loves me this i know",
  "open sesame open sesame",
  "winter is coming",
  "live laugh love forever",
];

// How people stretch a short favourite to 15+ characters: the word, then a digit run or a year.
const PADDING = ["1234567", "12345678", "123456789", "1234567890", "0123456789", "2024", "2025", "!@#$%^&*", "!!!!!!!"];
const PADDED_BASES = [
  "password", "passw0rd", "p@ssw0rd", "iloveyou", "sunshine", "princess", "football", "baseball", "superman",
  "starwars", "whatever", "trustno1", "welcome", "letmein", "dragon", "monkey", "shadow", "master", "qwerty",
  "michael", "charlie", "jessica", "freedom", "computer", "internet", "changeme", "admin", "administrator",
  "basketball", "pokemon", "minecraft", "liverpool", "chelsea", "arsenal", "barcelona", "blink182", "metallica",
];

/** Lower-cased, NFC common passwords and passphrases. */
export const COMMON_PASSWORDS: ReadonlySet<string> = buildList();

function buildList(): Set<string> {
  const list = new Set<string>([...split(FREQUENT), ...split(LONG), ...PHRASES]);
  for (const base of PADDED_BASES) {
    for (const pad of PADDING) {
      const padded = base + pad;
      // Only the forms that actually reach the default minimum are worth storing.
      if ([...padded].length >= 15) list.add(padded);
    }
  }
  return list;
}

function split(words: string): string[] {
  return words.split(/\s+/).filter((word) => word !== "").map((word) => word.normalize("NFC").toLowerCase());
}
