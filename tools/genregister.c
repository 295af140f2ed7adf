/*
 * genregister - writes a register of fictitious people in the import format
 * (contract.md, "Offender record"), one JSON object a line.
 *
 *   genregister [--seed N] [--count N] [-o FILE]
 *
 * The same seed and count always give the same bytes (own PRNG, no rand(),
 * no clock), so tests, the demo and the benchmarks can regenerate their data.
 *
 * Every person is made up: given, middle and family names are drawn
 * independently from pools of common names of the communities of the UK,
 * with Zipf-like frequencies (common names common), so that combinations are
 * not anybody in particular.  It must never take a name from a real register
 * or describe an offence in more than generic words.
 *
 * Variety it produces on purpose, for the matcher: aliases (about 30%),
 * nicknames (Bill for William), name changes (a new family name), spelling
 * variants (Mohammed/Muhammad, Chen/Chan), the same name written in its own
 * script (Cyrillic, Greek, Arabic, Han, Devanagari, Gurmukhi) or with and
 * without diacritics (Wójcik/Wojcik, Nguyễn/Nguyen), swapped given and
 * family names, hyphenated and double-barrelled surnames, Mc/Mac/O'
 * surnames, other dates of birth, and several addresses with postcodes of
 * the managing force's area.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- PRNG: xoshiro256** seeded by splitmix64 ---- */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, n). */
static size_t rng_below(struct rng *r, size_t n)
{
	return n ? (size_t)((rng_next(r) >> 11) % n) : 0;
}

static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static int rng_pct(struct rng *r, double pct)
{
	return rng_unit(r) * 100.0 < pct;
}

/* Zipf-like (Zipf-Mandelbrot): rank k drawn with weight 1/(k+3), so
 * common names are common, the tail of a pool is rare, and the top name
 * of a pool is not absurdly dominant (Smith ends up at about 4%). */
#define ZIPF_MAX 128
#define ZIPF_SHIFT 2
static double harmonic[ZIPF_MAX + ZIPF_SHIFT + 2]; /* harmonic[n] = sum of 1/k, k = 1..n */

static void zipf_init(void)
{
	int k;

	harmonic[0] = 0.0;
	for (k = 1; k < ZIPF_MAX + ZIPF_SHIFT + 2; k++)
		harmonic[k] = harmonic[k - 1] + 1.0 / k;
}

static size_t rng_zipf(struct rng *r, size_t n)
{
	double lo = harmonic[ZIPF_SHIFT], x;
	size_t k;

	if (n > ZIPF_MAX)
		n = ZIPF_MAX;
	x = lo + rng_unit(r) * (harmonic[n + ZIPF_SHIFT] - lo);
	for (k = 0; k + 1 < n; k++) {
		if (x < harmonic[k + ZIPF_SHIFT + 1])
			return k;
	}
	return n - 1;
}

/* ---- name pools ---- */

/* A name and, where it has one, another written form of it: its own
 * script, or the form with (or without) diacritics. */
struct name {
	const char *n, *alt;
};

#define N(x) { x, NULL }
#define P(x, y) { x, y }
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum fem_rule { FEM_NONE, FEM_SLAVIC_SKI, FEM_OV_A, FEM_LITHUANIAN, FEM_SIKH };

struct community {
	const char *label;
	unsigned weight;
	const struct name *male, *female, *family;
	size_t n_male, n_female, n_family;
	enum fem_rule fem;
	int alt_pct; /* share of people who also carry the alt form as an alias */
	int order_swap_pct;
};

static const struct name en_m[] = {
	N("James"), N("John"), N("David"), N("Michael"), N("Paul"), N("Mark"), N("Andrew"),
	N("Richard"), N("Robert"), N("Christopher"), N("Stephen"), N("Peter"), N("Steven"),
	N("Daniel"), N("Thomas"), N("Matthew"), N("William"), N("Anthony"), N("Simon"), N("Gary"),
	N("Lee"), N("Darren"), N("Wayne"), N("Craig"), N("Jason"), N("Kevin"), N("Ian"), N("Neil"),
	N("Martin"), N("Graham"), N("Keith"), N("Barry"), N("Colin"), N("Dean"), N("Shaun"),
	N("Nathan"), N("Ryan"), N("Jordan"), N("Liam"), N("Jack"), N("Harry"), N("Oliver"),
	N("George"), N("Charlie"), N("Kieran"), N("Callum"), N("Ashley"), N("Philip"), N("Nigel"),
	N("Trevor"), N("Clive"), N("Leslie"), N("Terence"), N("Dennis"), N("Raymond"), N("Roy"),
	N("Derek"), N("Edward"), N("Jonathan"), N("Nicholas"), N("Benjamin"), N("Samuel"),
	N("Joseph"), N("Alan"), N("Brian"), N("Kenneth"), N("Stuart"), N("Russell"), N("Alexander"),
	N("Jon"), N("Bartholomew"), N("Crispin"), N("Peregrine"),
};
static const struct name en_f[] = {
	N("Sarah"), N("Emma"), N("Claire"), N("Lisa"), N("Karen"), N("Julie"), N("Michelle"),
	N("Nicola"), N("Rebecca"), N("Laura"), N("Jennifer"), N("Helen"), N("Susan"), N("Elizabeth"),
	N("Margaret"), N("Katherine"), N("Catherine"), N("Jessica"), N("Amy"), N("Hannah"),
	N("Charlotte"), N("Sophie"), N("Chloe"), N("Lauren"), N("Stacey"), N("Kelly"), N("Donna"),
	N("Tracey"), N("Joanne"), N("Gemma"), N("Victoria"), N("Rachel"), N("Louise"), N("Jane"),
	N("Anne"), N("Deborah"), N("Amanda"), N("Philippa"), N("Imogen"),
};
static const struct name en_fam[] = {
	N("Smith"), N("Jones"), N("Taylor"), N("Brown"), N("Williams"), N("Wilson"), N("Johnson"),
	N("Davies"), N("Robinson"), N("Wright"), N("Thompson"), N("Evans"), N("Walker"), N("White"),
	N("Roberts"), N("Green"), N("Hall"), N("Wood"), N("Jackson"), N("Clarke"), N("Clark"),
	N("Harris"), N("Lewis"), N("Edwards"), N("Turner"), N("Hill"), N("Cooper"), N("Ward"),
	N("Morris"), N("Moore"), N("King"), N("Baker"), N("Harrison"), N("Morgan"), N("Allen"),
	N("Young"), N("Martin"), N("Watson"), N("Carter"), N("Phillips"), N("Mitchell"), N("Parker"),
	N("Bennett"), N("Cook"), N("Shaw"), N("Holmes"), N("Hughes"), N("Marshall"), N("Chapman"),
	N("Ellis"), N("Webb"), N("Fletcher"), N("Palmer"), N("Barker"), N("Hewitt"), N("Armitage"),
	N("Ackroyd"), N("Smyth"), N("Fairweather"), N("Pettigrew"), N("Blenkinsop"),
	N("Higginbottom"), N("Ramsbottom"), N("Whitworth"), N("Pickering"), N("Cholmondeley"),
	N("Featherstonehaugh"), N("Thwaite"), N("Oakes"),
};
static const struct name cy_m[] = {
	N("Dafydd"), N("Rhys"), N("Gareth"), N("Owain"), N("Huw"), N("Ieuan"), N("Gethin"),
	N("Emyr"), N("Aled"), N("Iwan"), N("Rhodri"), N("Gwilym"),
};
static const struct name cy_f[] = {
	N("Cerys"), N("Sian"), N("Rhiannon"), N("Angharad"), N("Bethan"), N("Carys"), N("Eleri"),
	N("Ffion"), N("Gwen"), N("Nia"),
};
static const struct name cy_fam[] = {
	N("Jones"), N("Williams"), N("Davies"), N("Evans"), N("Thomas"), N("Roberts"), N("Hughes"),
	N("Lewis"), N("Morgan"), N("Griffiths"), N("Price"), N("Owen"), N("Pritchard"), N("Bowen"),
	N("Powell"), N("Rees"), N("Jenkins"), N("Lloyd"), N("Vaughan"), N("Llewellyn"), N("Parry"),
	N("Pugh"), N("Meredith"), N("Prosser"), N("Howells"), N("Gwynne"), N("ap Rhys"),
};
static const struct name sc_m[] = {
	N("Alasdair"), N("Hamish"), N("Angus"), N("Callum"), N("Euan"), N("Fraser"), N("Iain"),
	N("Ruaridh"), N("Lachlan"), N("Murdo"), N("Ewan"), N("Duncan"), N("Alexander"),
};
static const struct name sc_f[] = {
	N("Ailsa"), N("Catriona"), N("Eilidh"), N("Morag"), N("Iona"), N("Isla"), N("Kirsty"),
	N("Mhairi"), N("Fiona"),
};
static const struct name sc_fam[] = {
	N("MacDonald"), N("McDonald"), N("Campbell"), N("Stewart"), N("Robertson"), N("Murray"),
	N("MacLeod"), N("McLeod"), N("Fraser"), N("Mackenzie"), N("McKenzie"), N("MacGregor"),
	N("Cameron"), N("Sinclair"), N("Ferguson"), N("Douglas"), N("Buchanan"), N("Drummond"),
	N("Munro"), N("Urquhart"), N("MacKay"), N("Mackintosh"), N("Menzies"), N("Farquharson"),
	N("Gillespie"), N("Kerr"), N("McIntyre"),
};
static const struct name ie_m[] = {
	N("Patrick"), N("Sean"), N("Seamus"), N("Liam"), N("Declan"), N("Ciaran"), N("Cormac"),
	P("Padraig", "Pádraig"), N("Eoin"), N("Niall"), N("Conor"), N("Donal"), N("Fergal"),
};
static const struct name ie_f[] = {
	N("Aoife"), N("Siobhan"), N("Niamh"), P("Roisin", "Róisín"), N("Saoirse"), N("Orla"),
	P("Mairead", "Máiréad"), P("Grainne", "Gráinne"), N("Bridget"),
};
static const struct name ie_fam[] = {
	N("Murphy"), N("Kelly"), N("O'Brien"), P("O'Sullivan", "Ó Súilleabháin"), N("Walsh"),
	N("O'Connor"), N("McCarthy"), N("O'Neill"), N("Byrne"), N("Ryan"), N("O'Reilly"),
	N("Doyle"), N("McLaughlin"), N("Kennedy"), N("Lynch"), N("Quinn"), N("McGuinness"),
	N("O'Donnell"), N("Gallagher"), N("Fitzgerald"), N("MacNamara"), N("McNamara"),
	N("O'Driscoll"), N("Flanagan"), N("Callaghan"), N("O'Callaghan"), N("Brennan"), N("Dunne"),
	N("Nolan"), N("Keane"), P("Fitzpatrick", "Mac Giolla Phádraig"),
};
static const struct name pl_m[] = {
	N("Piotr"), N("Krzysztof"), N("Tomasz"), P("Paweł", "Pawel"), P("Michał", "Michal"),
	N("Marcin"), P("Łukasz", "Lukasz"), N("Grzegorz"), N("Jakub"), N("Mateusz"), N("Wojciech"),
	N("Andrzej"), N("Kamil"), N("Bartosz"),
};
static const struct name pl_f[] = {
	N("Anna"), N("Katarzyna"), P("Małgorzata", "Malgorzata"), N("Agnieszka"), N("Joanna"),
	N("Magdalena"), N("Ewa"), N("Monika"), N("Aleksandra"),
};
static const struct name pl_fam[] = {
	N("Nowak"), N("Kowalski"), P("Wiśniewski", "Wisniewski"), P("Wójcik", "Wojcik"),
	N("Kowalczyk"), P("Kamiński", "Kaminski"), N("Lewandowski"), P("Zieliński", "Zielinski"),
	P("Szymański", "Szymanski"), P("Woźniak", "Wozniak"), P("Dąbrowski", "Dabrowski"),
	P("Kozłowski", "Kozlowski"), N("Jankowski"), N("Mazur"), N("Krawczyk"), N("Grabowski"),
	P("Pawłowski", "Pawlowski"), N("Michalski"), P("Król", "Krol"), N("Wieczorek"),
};
static const struct name ro_m[] = {
	N("Andrei"), N("Alexandru"), P("Ionuț", "Ionut"), N("Mihai"), N("Florin"), N("Cristian"),
	N("Bogdan"), N("Gheorghe"), N("Vasile"), P("Ștefan", "Stefan"), N("Adrian"),
};
static const struct name ro_f[] = {
	N("Elena"), N("Ioana"), N("Maria"), N("Andreea"), N("Mihaela"), N("Cristina"),
};
static const struct name ro_fam[] = {
	N("Popescu"), N("Ionescu"), N("Popa"), N("Radu"), N("Dumitru"), N("Stan"), N("Stoica"),
	N("Gheorghe"), N("Munteanu"), N("Constantin"), N("Matei"), N("Ciobanu"), N("Rusu"),
	N("Mocanu"), N("Lungu"), N("Dinu"), P("Țurcanu", "Turcanu"), P("Bălan", "Balan"),
};
static const struct name lt_m[] = {
	N("Tomas"), N("Mantas"), N("Darius"), N("Jonas"), N("Paulius"), N("Lukas"), N("Andrius"),
	N("Mindaugas"), N("Giedrius"),
};
static const struct name lt_f[] = {
	P("Rūta", "Ruta"), N("Jurgita"), N("Ieva"), P("Agnė", "Agne"), P("Eglė", "Egle"),
};
static const struct name lt_fam[] = {
	N("Kazlauskas"), N("Jankauskas"), N("Petrauskas"), P("Stankevičius", "Stankevicius"),
	N("Vasiliauskas"), P("Žukauskas", "Zukauskas"), N("Butkus"), N("Paulauskas"),
	N("Urbonas"), N("Kavaliauskas"),
};
/* Sikh given names serve both sexes; Singh and Kaur are added by sex. */
static const struct name sikh_given[] = {
	P("Gurpreet", "ਗੁਰਪ੍ਰੀਤ"), P("Harpreet", "ਹਰਪ੍ਰੀਤ"), P("Manpreet", "ਮਨਪ੍ਰੀਤ"),
	P("Jaswinder", "ਜਸਵਿੰਦਰ"), P("Balwinder", "ਬਲਵਿੰਦਰ"), P("Sukhwinder", "ਸੁਖਵਿੰਦਰ"),
	P("Kulwinder", "ਕੁਲਵਿੰਦਰ"), P("Amarjit", "ਅਮਰਜੀਤ"), P("Paramjit", "ਪਰਮਜੀਤ"),
	P("Jagdeep", "ਜਗਦੀਪ"), N("Harjit"), N("Rajinder"), N("Navdeep"),
};
static const struct name sikh_fam[] = {
	P("Singh", "ਸਿੰਘ"), P("Sandhu", "ਸੰਧੂ"), P("Gill", "ਗਿੱਲ"), P("Sidhu", "ਸਿੱਧੂ"),
	P("Dhillon", "ਢਿੱਲੋਂ"), P("Grewal", "ਗਰੇਵਾਲ"), P("Bains", "ਬੈਂਸ"), N("Johal"), N("Atwal"),
	N("Virdi"), N("Sahota"), N("Bhamra"), N("Kang"), N("Basra"),
};
static const struct name pk_m[] = {
	P("Mohammed", "محمد"), P("Muhammad", "محمد"), P("Mohamed", "محمد"), P("Mohammad", "محمد"),
	P("Ahmed", "احمد"), P("Ali", "علي"), P("Hassan", "حسن"), P("Hussain", "حسين"),
	P("Imran", "عمران"), P("Tariq", "طارق"), N("Asif"), N("Zubair"), P("Bilal", "بلال"),
	P("Usman", "عثمان"), P("Faisal", "فيصل"), P("Khalid", "خالد"), N("Shahid"), N("Rizwan"),
	N("Abdul"), N("Amir"), N("Nadeem"), N("Kamran"), N("Arif"), N("Sajid"),
};
static const struct name pk_f[] = {
	P("Fatima", "فاطمة"), P("Ayesha", "عائشة"), N("Aisha"), P("Zainab", "زينب"),
	P("Maryam", "مريم"), N("Nazia"), N("Shazia"), N("Samina"), N("Rubina"), N("Farzana"),
	N("Nasreen"), N("Sadia"), N("Amina"),
};
static const struct name pk_fam[] = {
	P("Khan", "خان"), P("Hussain", "حسين"), P("Ahmed", "احمد"), P("Ali", "علي"), N("Akhtar"),
	P("Iqbal", "اقبال"), P("Mahmood", "محمود"), P("Rashid", "رشيد"), N("Chaudhry"),
	N("Choudhury"), N("Butt"), P("Malik", "ملك"), P("Qureshi", "قريشي"), P("Shah", "شاه"),
	N("Miah"), N("Uddin"), N("Islam"), P("Rahman", "رحمان"), N("Hossain"), N("Ahmad"),
	P("Siddiqui", "صديقي"), N("Anwar"), N("Aslam"), N("Raza"), N("Chowdhury"),
};
static const struct name ar_m[] = {
	P("Omar", "عمر"), P("Youssef", "يوسف"), P("Ahmad", "أحمد"), P("Mahmoud", "محمود"),
	P("Karim", "كريم"), P("Samir", "سمير"), P("Nabil", "نبيل"), P("Walid", "وليد"),
	P("Rami", "رامي"),
};
static const struct name ar_f[] = {
	P("Layla", "ليلى"), P("Noor", "نور"), P("Rania", "رانيا"), P("Amal", "أمل"),
};
static const struct name ar_fam[] = {
	P("Haddad", "حداد"), P("Khoury", "خوري"), P("Nasser", "ناصر"), P("Saleh", "صالح"),
	P("Hamdan", "حمدان"), P("Mansour", "منصور"), P("Abdullah", "عبدالله"),
	P("Al-Masri", "المصري"), P("Ibrahim", "إبراهيم"), P("Yassin", "ياسين"),
	P("Darwish", "درويش"),
};
static const struct name ng_m[] = {
	N("Chinedu"), N("Emeka"), N("Oluwaseun"), N("Tunde"), N("Babatunde"), N("Adebayo"),
	N("Obinna"), N("Chukwuemeka"), N("Ikechukwu"), N("Segun"), N("Olumide"),
};
static const struct name ng_f[] = {
	N("Ngozi"), N("Chiamaka"), N("Funmilayo"), N("Folasade"), N("Adaeze"), N("Yetunde"),
	N("Bukola"),
};
static const struct name ng_fam[] = {
	N("Okafor"), N("Okonkwo"), N("Adeyemi"), N("Balogun"), N("Ogunleye"), N("Eze"), N("Nwosu"),
	N("Adebayo"), N("Olawale"), N("Okeke"), N("Ibrahim"), N("Abubakar"), N("Bello"),
	N("Oyelaran"), N("Chukwu"), N("Akinola"), N("Afolabi"),
};
static const struct name gh_m[] = {
	N("Kwame"), N("Kofi"), N("Kwaku"), N("Yaw"), N("Kwabena"), N("Kojo"), N("Kwesi"),
};
static const struct name gh_f[] = {
	N("Akosua"), N("Ama"), N("Abena"), N("Efua"), N("Adwoa"),
};
static const struct name gh_fam[] = {
	N("Mensah"), N("Asante"), N("Owusu"), N("Boateng"), N("Osei"), N("Appiah"), N("Agyeman"),
	N("Darko"), N("Acheampong"), N("Amoah"), N("Ofori"), N("Quaye"), N("Tetteh"),
};
static const struct name so_m[] = {
	N("Abdi"), N("Abdirahman"), N("Abdullahi"), N("Mohamed"), N("Ahmed"), N("Hassan"),
	N("Farah"), N("Omar"), N("Yusuf"), N("Ismail"),
};
static const struct name so_f[] = {
	N("Hodan"), N("Fadumo"), N("Sahra"), N("Hawa"), N("Ifrah"), N("Amina"), N("Nimco"),
	N("Ubah"),
};
static const struct name so_fam[] = {
	N("Ali"), N("Hassan"), N("Farah"), N("Mohamed"), N("Warsame"), N("Jama"), N("Nur"),
	N("Abdi"), N("Aden"), N("Egal"), N("Dahir"), N("Osman"), N("Hersi"), N("Duale"), N("Guled"),
};
static const struct name cb_m[] = {
	N("Delroy"), N("Winston"), N("Errol"), N("Leroy"), N("Desmond"), N("Clive"), N("Marlon"),
	N("Devon"), N("Carlton"), N("Lloyd"), N("Everton"), N("Tyrone"), N("Jermaine"),
};
static const struct name cb_f[] = {
	N("Marcia"), N("Beverley"), N("Yvonne"), N("Paulette"), N("Sonia"), N("Cheryl"), N("Janet"),
	N("Simone"),
};
static const struct name cb_fam[] = {
	N("Campbell"), N("Brown"), N("Williams"), N("Thompson"), N("Clarke"), N("Grant"),
	N("Francis"), N("Reid"), N("Henry"), N("Bailey"), N("Samuels"), N("Stewart"), N("Gordon"),
	N("McKenzie"), N("Lewis"), N("Morgan"), N("Barrett"), N("Powell"), N("Ebanks"), N("Bogle"),
	N("Spence"),
};
static const struct name cn_m[] = {
	P("Wei", "伟"), P("Jun", "军"), P("Ming", "明"), P("Lei", "磊"), P("Jian", "建"),
	P("Hao", "浩"), P("Yong", "勇"), P("Jie", "杰"), P("Tao", "涛"), P("Qiang", "强"),
};
static const struct name cn_f[] = {
	P("Li", "丽"), P("Mei", "梅"), P("Xiu", "秀"), P("Hui", "慧"), P("Fang", "芳"),
	P("Ying", "英"), P("Yan", "燕"), P("Jing", "静"),
};
static const struct name cn_fam[] = {
	P("Wang", "王"), P("Li", "李"), P("Zhang", "张"), P("Liu", "刘"), P("Chen", "陈"),
	P("Yang", "杨"), P("Huang", "黄"), P("Zhao", "赵"), P("Wu", "吴"), P("Zhou", "周"),
	P("Xu", "徐"), P("Sun", "孙"), P("Ma", "马"), P("Zhu", "朱"), P("Hu", "胡"), P("Lin", "林"),
	P("Guo", "郭"), P("He", "何"), P("Chan", "陈"), P("Wong", "黄"), P("Lee", "李"),
	P("Cheung", "张"), P("Lau", "刘"), P("Ng", "吴"), P("Lam", "林"), P("Leung", "梁"),
};
static const struct name vn_m[] = {
	N("Minh"), N("Anh"), P("Duc", "Đức"), N("Huy"), P("Tuan", "Tuấn"), P("Hung", "Hùng"),
	P("Thanh", "Thành"), N("Long"), N("Nam"), N("Quang"),
};
static const struct name vn_f[] = {
	N("Linh"), N("Lan"), P("Huong", "Hương"), N("Mai"), N("Thu"), N("Trang"), P("Ngoc", "Ngọc"),
};
static const struct name vn_fam[] = {
	P("Nguyen", "Nguyễn"), P("Tran", "Trần"), P("Le", "Lê"), P("Pham", "Phạm"),
	P("Hoang", "Hoàng"), P("Huynh", "Huỳnh"), N("Phan"), P("Vu", "Vũ"), P("Vo", "Võ"),
	P("Dang", "Đặng"), P("Bui", "Bùi"), P("Do", "Đỗ"), P("Ho", "Hồ"), P("Ngo", "Ngô"),
	P("Duong", "Dương"), P("Ly", "Lý"),
};
static const struct name gr_m[] = {
	P("Georgios", "Γεώργιος"), P("Dimitrios", "Δημήτριος"), P("Konstantinos", "Κωνσταντίνος"),
	P("Ioannis", "Ιωάννης"), P("Nikolaos", "Νικόλαος"), P("Christos", "Χρήστος"),
	P("Panagiotis", "Παναγιώτης"), P("Andreas", "Ανδρέας"),
};
static const struct name gr_f[] = {
	P("Maria", "Μαρία"), P("Eleni", "Ελένη"), P("Katerina", "Κατερίνα"), P("Sofia", "Σοφία"),
	P("Anna", "Άννα"),
};
static const struct name gr_fam[] = {
	P("Papageorgiou", "Παπαγεωργίου"), P("Georgiou", "Γεωργίου"),
	P("Konstantinou", "Κωνσταντίνου"), P("Christodoulou", "Χριστοδούλου"),
	P("Ioannou", "Ιωάννου"), P("Charalambous", "Χαραλάμπους"), P("Antoniou", "Αντωνίου"),
	P("Demetriou", "Δημητρίου"), P("Pavlou", "Παύλου"), P("Nikolaou", "Νικολάου"),
};
static const struct name tr_m[] = {
	N("Mehmet"), N("Mustafa"), N("Ahmet"), N("Ali"), P("Hüseyin", "Huseyin"), N("Hasan"),
	P("İbrahim", "Ibrahim"), N("Murat"), N("Emre"), N("Burak"),
};
static const struct name tr_f[] = {
	P("Ayşe", "Ayse"), N("Fatma"), N("Emine"), N("Zeynep"), N("Elif"),
};
static const struct name tr_fam[] = {
	P("Yılmaz", "Yilmaz"), N("Kaya"), N("Demir"), P("Şahin", "Sahin"), P("Çelik", "Celik"),
	P("Yıldız", "Yildiz"), P("Öztürk", "Ozturk"), P("Aydın", "Aydin"), P("Özdemir", "Ozdemir"),
	N("Arslan"), P("Doğan", "Dogan"), P("Kılıç", "Kilic"), N("Aslan"), P("Çetin", "Cetin"),
};
static const struct name ru_m[] = {
	P("Aleksandr", "Александр"), P("Sergei", "Сергей"), P("Dmitri", "Дмитрий"),
	P("Andrei", "Андрей"), P("Alexei", "Алексей"), P("Oleksandr", "Олександр"),
	P("Mykola", "Микола"), P("Ivan", "Иван"), P("Yuri", "Юрий"),
};
static const struct name ru_f[] = {
	P("Olga", "Ольга"), P("Natalia", "Наталья"), P("Irina", "Ирина"),
	P("Svetlana", "Светлана"), P("Oksana", "Оксана"),
};
static const struct name ru_fam[] = {
	P("Ivanov", "Иванов"), P("Petrov", "Петров"), P("Smirnov", "Смирнов"),
	P("Kuznetsov", "Кузнецов"), P("Popov", "Попов"), P("Sokolov", "Соколов"),
	P("Volkov", "Волков"), P("Shevchenko", "Шевченко"), P("Kovalenko", "Коваленко"),
	P("Bondarenko", "Бондаренко"), P("Tkachenko", "Ткаченко"), P("Melnyk", "Мельник"),
};
static const struct name in_m[] = {
	P("Rajesh", "राजेश"), P("Sanjay", "संजय"), P("Amit", "अमित"), P("Vijay", "विजय"),
	P("Anil", "अनिल"), P("Sunil", "सुनील"), P("Ravi", "रवि"), P("Rahul", "राहुल"),
	P("Deepak", "दीपक"),
};
static const struct name in_f[] = {
	P("Priya", "प्रिया"), P("Sunita", "सुनीता"), P("Anita", "अनीता"), P("Pooja", "पूजा"),
	P("Neha", "नेहा"),
};
static const struct name in_fam[] = {
	P("Patel", "पटेल"), P("Sharma", "शर्मा"), P("Kumar", "कुमार"), P("Shah", "शाह"),
	P("Mistry", "मिस्त्री"), P("Gupta", "गुप्ता"), P("Joshi", "जोशी"), P("Mehta", "मेहता"),
	P("Desai", "देसाई"), P("Parmar", "परमार"), P("Chauhan", "चौहान"), P("Verma", "वर्मा"),
};

#define POOL(m, f, fam) m, f, fam, COUNT(m), COUNT(f), COUNT(fam)

static const struct community communities[] = {
	{ "english", 400, POOL(en_m, en_f, en_fam), FEM_NONE, 0, 0 },
	{ "welsh", 50, POOL(cy_m, cy_f, cy_fam), FEM_NONE, 0, 0 },
	{ "scottish", 55, POOL(sc_m, sc_f, sc_fam), FEM_NONE, 0, 0 },
	{ "irish", 60, POOL(ie_m, ie_f, ie_fam), FEM_NONE, 20, 0 },
	{ "caribbean", 40, POOL(cb_m, cb_f, cb_fam), FEM_NONE, 0, 0 },
	{ "polish", 40, POOL(pl_m, pl_f, pl_fam), FEM_SLAVIC_SKI, 50, 1 },
	{ "romanian", 30, POOL(ro_m, ro_f, ro_fam), FEM_NONE, 40, 2 },
	{ "lithuanian", 20, POOL(lt_m, lt_f, lt_fam), FEM_LITHUANIAN, 40, 1 },
	{ "sikh", 30, POOL(sikh_given, sikh_given, sikh_fam), FEM_SIKH, 25, 0 },
	{ "pakistani-bangladeshi", 60, POOL(pk_m, pk_f, pk_fam), FEM_NONE, 20, 3 },
	{ "indian", 30, POOL(in_m, in_f, in_fam), FEM_NONE, 20, 0 },
	{ "nigerian", 30, POOL(ng_m, ng_f, ng_fam), FEM_NONE, 0, 5 },
	{ "ghanaian", 20, POOL(gh_m, gh_f, gh_fam), FEM_NONE, 0, 3 },
	{ "somali", 20, POOL(so_m, so_f, so_fam), FEM_NONE, 0, 5 },
	{ "chinese", 20, POOL(cn_m, cn_f, cn_fam), FEM_NONE, 40, 15 },
	{ "vietnamese", 10, POOL(vn_m, vn_f, vn_fam), FEM_NONE, 40, 15 },
	{ "greek", 10, POOL(gr_m, gr_f, gr_fam), FEM_NONE, 40, 0 },
	{ "turkish", 20, POOL(tr_m, tr_f, tr_fam), FEM_NONE, 40, 1 },
	{ "arabic", 20, POOL(ar_m, ar_f, ar_fam), FEM_NONE, 40, 2 },
	{ "russian-ukrainian", 20, POOL(ru_m, ru_f, ru_fam), FEM_OV_A, 40, 1 },
};

/* Nicknames and spelling variants a person may be recorded under. */
static const char *const nicknames[][4] = {
	{ "William", "Bill", "Billy", "Will" }, { "Robert", "Bob", "Rob", "Bobby" },
	{ "Richard", "Dick", "Rich", "Richie" }, { "James", "Jim", "Jimmy", "Jamie" },
	{ "Michael", "Mick", "Mike", "Mickey" }, { "Thomas", "Tom", "Tommy", NULL },
	{ "Anthony", "Tony", "Ant", NULL }, { "Edward", "Ted", "Eddie", "Ed" },
	{ "Margaret", "Maggie", "Peggy", "Meg" }, { "Elizabeth", "Liz", "Beth", "Betty" },
	{ "Christopher", "Chris", "Kit", NULL }, { "Daniel", "Dan", "Danny", NULL },
	{ "David", "Dave", "Dai", "Davy" }, { "Joseph", "Joe", "Joey", NULL },
	{ "Alexander", "Alex", "Sandy", "Alec" }, { "Patrick", "Paddy", "Pat", NULL },
	{ "Jonathan", "Jon", "Jonny", NULL }, { "Nicholas", "Nick", "Nicky", NULL },
	{ "Andrew", "Andy", "Drew", NULL }, { "Kenneth", "Ken", "Kenny", NULL },
	{ "Stephen", "Steve", "Stevie", NULL }, { "Steven", "Steve", NULL, NULL },
	{ "Matthew", "Matt", NULL, NULL }, { "Samuel", "Sam", "Sammy", NULL },
	{ "Katherine", "Kate", "Kathy", "Katie" }, { "Catherine", "Cath", "Cathy", "Kate" },
	{ "Rebecca", "Becky", "Becca", NULL }, { "Victoria", "Vicky", "Tori", NULL },
	{ "Jennifer", "Jenny", "Jen", NULL }, { "Deborah", "Debbie", "Deb", NULL },
	{ "Aleksandr", "Sasha", "Sanya", NULL }, { "Oleksandr", "Sasha", NULL, NULL },
	{ "Dmitri", "Dima", NULL, NULL }, { "Krzysztof", "Krzysiek", NULL, NULL },
	{ "Mohammed", "Mo", NULL, NULL }, { "Babatunde", "Tunde", NULL, NULL },
	{ "Oluwaseun", "Seun", NULL, NULL }, { "Chukwuemeka", "Emeka", NULL, NULL },
	{ "Abdirahman", "Abdi", NULL, NULL }, { "Alasdair", "Ally", NULL, NULL },
};
static const char *const variants[][5] = {
	{ "Mohammed", "Muhammad", "Mohamed", "Mohammad", "Mohammod" },
	{ "Hussain", "Hussein", "Husain", "Hossain", NULL },
	{ "Chaudhry", "Choudhury", "Chowdhury", "Chaudhary", NULL },
	{ "Ahmed", "Ahmad", "Ahmet", NULL, NULL }, { "Yusuf", "Yousef", "Youssef", NULL, NULL },
	{ "Katherine", "Catherine", "Kathryn", NULL, NULL }, { "Stephen", "Steven", NULL, NULL, NULL },
	{ "Jon", "John", NULL, NULL, NULL }, { "Smith", "Smyth", "Smithe", NULL, NULL },
	{ "Clarke", "Clark", NULL, NULL, NULL }, { "MacDonald", "McDonald", NULL, NULL, NULL },
	{ "MacLeod", "McLeod", NULL, NULL, NULL }, { "Mackenzie", "McKenzie", NULL, NULL, NULL },
	{ "MacNamara", "McNamara", NULL, NULL, NULL }, { "Chen", "Chan", NULL, NULL, NULL },
	{ "Wang", "Wong", NULL, NULL, NULL }, { "Li", "Lee", NULL, NULL, NULL },
	{ "Zhang", "Cheung", NULL, NULL, NULL }, { "Liu", "Lau", NULL, NULL, NULL },
	{ "Aleksandr", "Alexander", "Oleksandr", NULL, NULL }, { "Sergei", "Sergey", NULL, NULL, NULL },
	{ "Dmitri", "Dmitry", "Dimitri", NULL, NULL }, { "Alexei", "Aleksei", "Alexey", NULL, NULL },
	{ "Yuri", "Yury", "Iurii", NULL, NULL }, { "Ayesha", "Aisha", "Aysha", NULL, NULL },
	{ "Fatima", "Fatma", "Fatimah", NULL, NULL }, { "Abdullahi", "Abdallah", "Abdullah", NULL, NULL },
	{ "Sean", "Shaun", "Shawn", NULL, NULL }, { "Siobhan", "Shevaun", NULL, NULL, NULL },
	{ "Iain", "Ian", NULL, NULL, NULL }, { "Jaswinder", "Jasvinder", NULL, NULL, NULL },
	{ "Mahmood", "Mahmud", "Mehmood", NULL, NULL }, { "Qureshi", "Kureshi", NULL, NULL, NULL },
	{ "Tariq", "Tarik", NULL, NULL, NULL }, { "Youssef", "Yusuf", "Yousef", NULL, NULL },
};

/* ---- forces and places ---- */

struct force {
	const char *id, *prefix;
	unsigned weight;
	const char *areas[6];
	const char *towns[6];
};

static const struct force forces[] = {
	{ "metropolitan", "MET", 160, { "E", "N", "SE", "SW", "W", "NW" },
	  { "London", "London", "London", "London", "London", "London" } },
	{ "west-midlands", "WMD", 60, { "B", "CV", "WV", "WS", "DY", NULL },
	  { "Birmingham", "Coventry", "Wolverhampton", "Walsall", "Dudley", NULL } },
	{ "greater-manchester", "GMP", 60, { "M", "BL", "OL", "SK", "WN", NULL },
	  { "Manchester", "Bolton", "Oldham", "Stockport", "Wigan", NULL } },
	{ "west-yorkshire", "WYP", 50, { "LS", "BD", "WF", "HX", "HD", NULL },
	  { "Leeds", "Bradford", "Wakefield", "Halifax", "Huddersfield", NULL } },
	{ "west-mercia", "WMP", 30, { "WR", "HR", "SY", "TF", "DY", NULL },
	  { "Worcester", "Hereford", "Shrewsbury", "Telford", "Kidderminster", NULL } },
	{ "warwickshire", "WAR", 12, { "CV", NULL }, { "Warwick", NULL } },
	{ "merseyside", "MER", 35, { "L", "CH", "WA", NULL }, { "Liverpool", "Birkenhead", "St Helens", NULL } },
	{ "south-wales", "SWP", 30, { "CF", "SA", "NP", NULL }, { "Cardiff", "Swansea", "Newport", NULL } },
	{ "thames-valley", "TVP", 40, { "OX", "RG", "MK", "HP", "SL", NULL },
	  { "Oxford", "Reading", "Milton Keynes", "High Wycombe", "Slough", NULL } },
	{ "lancashire", "LAN", 30, { "PR", "BB", "FY", "LA", NULL },
	  { "Preston", "Blackburn", "Blackpool", "Lancaster", NULL } },
	{ "avon-and-somerset", "ASP", 30, { "BS", "BA", "TA", NULL }, { "Bristol", "Bath", "Taunton", NULL } },
	{ "northumbria", "NOR", 28, { "NE", "SR", NULL }, { "Newcastle upon Tyne", "Sunderland", NULL } },
	{ "leicestershire", "LEI", 20, { "LE", NULL }, { "Leicester", NULL } },
	{ "nottinghamshire", "NTP", 22, { "NG", NULL }, { "Nottingham", NULL } },
	{ "kent", "KEN", 35, { "ME", "CT", "TN", "DA", NULL }, { "Maidstone", "Canterbury", "Tunbridge Wells", "Dartford", NULL } },
	{ "dyfed-powys", "DPP", 10, { "SA", "LD", "SY", NULL }, { "Carmarthen", "Llandrindod Wells", "Aberystwyth", NULL } },
};

static const char *const streets[] = {
	"High", "Church", "Station", "Mill", "Victoria", "Park", "Queen's", "Albert", "London",
	"Green", "Manor", "School", "New", "North", "South", "Chapel", "King's", "Grange", "Meadow",
	"Orchard", "Windsor", "York", "Elm", "Oak", "Beech", "Cedar", "Springfield", "Highfield",
	"Clarence", "Alexandra", "Brook", "Hillside", "Willow", "Canal", "Market", "Bridge",
};
static const char *const street_kinds[] = {
	"Street", "Road", "Lane", "Avenue", "Close", "Way", "Crescent", "Drive", "Gardens", "Terrace",
};

static const char *const offences[] = {
	"Sexual offence against a child (generated description)",
	"Indecent images of children offence (generated description)",
	"Online grooming offence (generated description)",
	"Sexual assault (generated description)",
	"Breach of notification requirements (generated description)",
	"Breach of a sexual harm prevention order (generated description)",
	"Exposure offence (generated description)",
	"Voyeurism offence (generated description)",
};
static const char *const age_bands[] = { "under_13", "13_15", "16_17", "adult" };
static const char *const prohibitions[] = {
	"No unsupervised contact with children under 18 (generated condition)",
	"No use of the internet without monitoring software (generated condition)",
	"Not to live in a household with children under 18 (generated condition)",
	"Not to approach named schools (generated condition)",
	"Not to delete internet history (generated condition)",
};

/* ---- output ---- */

struct out {
	char buf[16384];
	size_t len;
	FILE *f;
	int failed;
};

static void put_raw(struct out *o, const char *s, size_t n)
{
	if (o->len + n > sizeof(o->buf)) {
		o->failed = 1; /* a record never gets near this; refuse rather than cut */
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void put(struct out *o, const char *s)
{
	put_raw(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, sizeof(o->buf) - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(o->buf) - o->len)
		o->failed = 1;
	else
		o->len += (size_t)n;
}

/* A JSON string; pool strings hold no control characters, but quote and
 * backslash are escaped anyway. */
static void put_str(struct out *o, const char *s)
{
	put_raw(o, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			put_raw(o, "\\", 1);
		put_raw(o, s, 1);
	}
	put_raw(o, "\"", 1);
}

/* ---- people ---- */

struct pname {
	char given[160], middle[160], family[160];
	int primary;
};

struct date3 {
	int y, m, d;
};

static int days_in(int y, int m)
{
	static const int md[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return md[m - 1];
}

static struct date3 rand_date(struct rng *r, int y0, int y1)
{
	struct date3 d;

	d.y = y0 + (int)rng_below(r, (size_t)(y1 - y0 + 1));
	d.m = 1 + (int)rng_below(r, 12);
	d.d = 1 + (int)rng_below(r, (size_t)days_in(d.y, d.m));
	return d;
}

static void put_date(struct out *o, struct date3 d)
{
	putf(o, "\"%04d-%02d-%02d\"", d.y, d.m, d.d);
}

static const struct community *pick_community(struct rng *r)
{
	unsigned total = 0, x;
	size_t i;

	for (i = 0; i < COUNT(communities); i++)
		total += communities[i].weight;
	x = (unsigned)rng_below(r, total);
	for (i = 0; i < COUNT(communities); i++) {
		if (x < communities[i].weight)
			return &communities[i];
		x -= communities[i].weight;
	}
	return &communities[0];
}

static const struct force *pick_force(struct rng *r)
{
	unsigned total = 0, x;
	size_t i;

	for (i = 0; i < COUNT(forces); i++)
		total += forces[i].weight;
	x = (unsigned)rng_below(r, total);
	for (i = 0; i < COUNT(forces); i++) {
		if (x < forces[i].weight)
			return &forces[i];
		x -= forces[i].weight;
	}
	return &forces[0];
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The feminine form of a family name where the language has one. */
static void feminine(enum fem_rule rule, char *fam, size_t cap)
{
	size_t n = strlen(fam);

	switch (rule) {
	case FEM_SLAVIC_SKI:
		if (ends_with(fam, "ski") || ends_with(fam, "cki"))
			fam[n - 1] = 'a';
		break;
	case FEM_OV_A:
		if ((ends_with(fam, "ov") || ends_with(fam, "ев") || ends_with(fam, "ов") ||
		     ends_with(fam, "ev")) && n + 3 < cap)
			strcat(fam, (unsigned char)fam[0] < 0x80 ? "a" : "а");
		break;
	case FEM_LITHUANIAN:
		if ((ends_with(fam, "as") || ends_with(fam, "us") || ends_with(fam, "is")) &&
		    n + 4 < cap) {
			fam[n - 2] = '\0';
			strcat(fam, "ienė");
		}
		break;
	default:
		break;
	}
}

static const char *nickname_of(struct rng *r, const char *given)
{
	size_t i;

	for (i = 0; i < COUNT(nicknames); i++) {
		if (strcmp(nicknames[i][0], given) == 0) {
			size_t n = 1;

			while (n < 4 && nicknames[i][n] != NULL)
				n++;
			return nicknames[i][1 + rng_below(r, n - 1)];
		}
	}
	return NULL;
}

static const char *variant_of(struct rng *r, const char *s)
{
	size_t i, j;

	for (i = 0; i < COUNT(variants); i++) {
		for (j = 0; j < 5 && variants[i][j] != NULL; j++) {
			if (strcmp(variants[i][j], s) == 0) {
				size_t n = 0, k;

				while (n < 5 && variants[i][n] != NULL)
					n++;
				k = rng_below(r, n - 1);
				return variants[i][k >= j ? k + 1 : k];
			}
		}
	}
	return NULL;
}

/* Bounded copy; truncation cannot happen with the pools, but is safe. */
static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strnlen(src, cap - 1) : 0;

	memmove(dst, src ? src : "", n);
	dst[n] = '\0';
}

static void put_name(struct out *o, const struct pname *n, bool first)
{
	if (!first)
		put(o, ",");
	put(o, "{");
	if (n->given[0]) {
		put(o, "\"given\":");
		put_str(o, n->given);
		put(o, ",");
	}
	if (n->middle[0]) {
		put(o, "\"middle\":");
		put_str(o, n->middle);
		put(o, ",");
	}
	put(o, "\"family\":");
	put_str(o, n->family);
	put(o, n->primary ? ",\"kind\":\"primary\"}" : ",\"kind\":\"alias\"}");
}

static void postcode(struct rng *r, const char *area, char *out, size_t cap)
{
	static const char inward[] = "ABDEFGHJLNPQRSTUWXYZ";
	int district = 1 + (int)rng_below(r, strlen(area) == 1 ? 30 : 20);

	snprintf(out, cap, "%s%d %d%c%c", area, district, 1 + (int)rng_below(r, 9),
		 inward[rng_below(r, sizeof(inward) - 1)], inward[rng_below(r, sizeof(inward) - 1)]);
}

static void person(struct rng *r, struct out *o, const struct force *f, unsigned long serial)
{
	const struct community *c = pick_community(r), *gc = c;
	struct pname names[6];
	const struct name *given, *middle = NULL, *family;
	size_t n_names = 1, i, n_addr;
	char sex;
	double u;
	struct date3 dob, from;
	int status;

	memset(names, 0, sizeof(names));
	u = rng_unit(r);
	sex = u < 0.94 ? 'M' : u < 0.995 ? 'F' : 'X';
	/* Some given names come from another community (mixed families). */
	if (rng_pct(r, 5))
		gc = pick_community(r);
	if (sex == 'F' && gc->fem != FEM_SIKH)
		given = &gc->female[rng_zipf(r, gc->n_female)];
	else
		given = &gc->male[rng_zipf(r, gc->n_male)];
	if (rng_pct(r, 45))
		middle = sex == 'F' ? &gc->female[rng_zipf(r, gc->n_female)]
				    : &gc->male[rng_zipf(r, gc->n_male)];
	family = &c->family[rng_zipf(r, c->n_family)];

	copy(names[0].given, sizeof(names[0].given), given->n);
	if (middle != NULL && middle != given)
		copy(names[0].middle, sizeof(names[0].middle), middle->n);
	if (c->fem == FEM_SIKH && rng_pct(r, 60)) {
		/* Singh / Kaur as the middle name, the family name after. */
		copy(names[0].middle, sizeof(names[0].middle), sex == 'F' ? "Kaur" : "Singh");
	}
	copy(names[0].family, sizeof(names[0].family), family->n);
	if (c->fem == FEM_SIKH && strcmp(family->n, "Singh") == 0 && sex == 'F')
		copy(names[0].family, sizeof(names[0].family), "Kaur");
	if (sex == 'F')
		feminine(c->fem, names[0].family, sizeof(names[0].family));
	/* Hyphenated and double-barrelled family names. */
	u = rng_unit(r);
	if (u < 0.055) {
		const struct name *second = &c->family[rng_zipf(r, c->n_family)];
		char tmp[400];

		if (second != family) {
			snprintf(tmp, sizeof(tmp), "%s%s%s", names[0].family, u < 0.04 ? "-" : " ",
				 second->n);
			copy(names[0].family, sizeof(names[0].family), tmp);
		}
	}
	names[0].primary = 1;

	/* Aliases: about 30% of people have 1-3 (some draws below find
	 * nothing to vary and are skipped, hence the higher rate here). */
	if (rng_pct(r, 36)) {
		size_t want = 1 + rng_below(r, 3) / 2 + (rng_pct(r, 15) ? 1 : 0);

		for (i = 0; i < want && n_names < COUNT(names); i++) {
			struct pname *a = &names[n_names];
			const char *s;

			*a = names[0];
			a->primary = 0;
			switch (rng_below(r, 6)) {
			case 0: /* nickname */
				if ((s = nickname_of(r, names[0].given)) == NULL)
					continue;
				copy(a->given, sizeof(a->given), s);
				a->middle[0] = '\0';
				break;
			case 1: /* name change: a new family name */
				copy(a->family, sizeof(a->family),
				     c->family[rng_zipf(r, c->n_family)].n);
				if (rng_pct(r, 30))
					copy(a->family, sizeof(a->family),
					     en_fam[rng_zipf(r, COUNT(en_fam))].n);
				if (strcmp(a->family, names[0].family) == 0)
					continue;
				break;
			case 2: /* spelling variant of given or family */
				if ((s = variant_of(r, names[0].given)) != NULL)
					copy(a->given, sizeof(a->given), s);
				else if ((s = variant_of(r, names[0].family)) != NULL)
					copy(a->family, sizeof(a->family), s);
				else
					continue;
				break;
			case 3: /* middle name used as given */
				if (names[0].middle[0] == '\0')
					continue;
				copy(a->given, sizeof(a->given), names[0].middle);
				a->middle[0] = '\0';
				break;
			case 4: /* a different given name altogether */
				copy(a->given, sizeof(a->given),
				     sex == 'F' && gc->fem != FEM_SIKH
					     ? gc->female[rng_zipf(r, gc->n_female)].n
					     : gc->male[rng_zipf(r, gc->n_male)].n);
				if (strcmp(a->given, names[0].given) == 0)
					continue;
				break;
			default: /* given and family swapped */
				if (!rng_pct(r, 20 + c->order_swap_pct * 4))
					continue;
				copy(a->given, sizeof(a->given), names[0].family);
				copy(a->family, sizeof(a->family), names[0].given);
				a->middle[0] = '\0';
				break;
			}
			n_names++;
		}
	}
	/* The same name in its own script or other spelling. */
	if (c->alt_pct > 0 && (family->alt != NULL || given->alt != NULL) &&
	    rng_pct(r, c->alt_pct) && n_names < COUNT(names)) {
		struct pname *a = &names[n_names++];

		memset(a, 0, sizeof(*a));
		copy(a->given, sizeof(a->given), given->alt ? given->alt : given->n);
		copy(a->family, sizeof(a->family), family->alt ? family->alt : family->n);
		if (sex == 'F')
			feminine(c->fem, a->family, sizeof(a->family));
	}

	o->len = 0;
	putf(o, "{\"id\":\"%s-%07lu\",\"names\":[", f->prefix, serial);
	for (i = 0; i < n_names; i++)
		put_name(o, &names[i], i == 0);
	put(o, "]");

	u = rng_unit(r);
	dob = rand_date(r, u < 0.7 ? 1960 : 1940, u < 0.7 ? 1992 : 2006);
	put(o, ",\"dob\":");
	put_date(o, dob);
	if (rng_pct(r, 6)) {
		struct date3 other = dob;

		put(o, ",\"other_dobs\":[");
		if (dob.d <= 12 && dob.d != dob.m && rng_pct(r, 60)) {
			other.m = dob.d;
			other.d = dob.m; /* day and month swapped in some record */
		} else {
			other.y += rng_pct(r, 50) ? 1 : -1;
			if (other.d > days_in(other.y, other.m))
				other.d = days_in(other.y, other.m);
		}
		put_date(o, other);
		put(o, "]");
	}
	putf(o, ",\"sex\":\"%c\"", sex);

	n_addr = 1 + (rng_pct(r, 40) ? 1 : 0) + (rng_pct(r, 15) ? 1 : 0);
	from = rand_date(r, 2000, 2015);
	put(o, ",\"addresses\":[");
	for (i = 0; i < n_addr; i++) {
		/* Most addresses in the force's area, some elsewhere (moved in). */
		const struct force *af = (i + 1 < n_addr && rng_pct(r, 25)) ? pick_force(r) : f;
		size_t na = 0, ai;
		char pc[16];
		struct date3 to = from;

		while (na < 6 && af->areas[na] != NULL)
			na++;
		ai = rng_below(r, na);
		postcode(r, af->areas[ai], pc, sizeof(pc));
		if (i > 0)
			put(o, ",");
		putf(o, "{\"text\":\"%u %s %s, %s\",\"postcode\":\"%s\",\"from\":",
		     (unsigned)(1 + rng_below(r, 180)), streets[rng_below(r, COUNT(streets))],
		     street_kinds[rng_below(r, COUNT(street_kinds))], af->towns[ai], pc);
		put_date(o, from);
		put(o, ",\"to\":");
		if (i + 1 == n_addr) {
			put(o, "null}");
		} else {
			to.y += 1 + (int)rng_below(r, 3);
			if (to.y > 2025)
				to.y = 2025;
			if (to.d > days_in(to.y, to.m))
				to.d = days_in(to.y, to.m); /* 29 February of a leap year */
			put_date(o, to);
			put(o, "}");
			from = to;
		}
	}
	put(o, "]");

	putf(o, ",\"managing_force\":\"%s\"", f->id);
	u = rng_unit(r);
	status = u < 0.80 ? 0 : u < 0.90 ? 2 : u < 0.98 ? 1 : 3;
	putf(o, ",\"status\":\"%s\"",
	     status == 0 ? "active" : status == 1 ? "expired" : status == 2 ? "in_custody" : "deceased");
	if (rng_pct(r, 92)) {
		u = rng_unit(r);
		putf(o, ",\"mappa\":{\"category\":%d,\"level\":%d}", u < 0.9 ? 1 : u < 0.98 ? 2 : 3,
		     rng_pct(r, 85) ? 1 : rng_pct(r, 80) ? 2 : 3);
	}
	u = rng_unit(r);
	putf(o, ",\"risk_level\":\"%s\"",
	     u < 0.45 ? "low" : u < 0.80 ? "medium" : u < 0.96 ? "high" : "very_high");

	{
		struct date3 start = rand_date(r, 1997, 2025);

		put(o, ",\"registration\":{\"start\":");
		put_date(o, start);
		put(o, ",\"end\":");
		if (status == 1) {
			start.y += 2 + (int)rng_below(r, 10);
			if (start.d > days_in(start.y, start.m))
				start.d = days_in(start.y, start.m);
			put_date(o, start);
		} else {
			put(o, "null");
		}
		put(o, "}");
	}

	n_addr = 1 + rng_below(r, 3);
	put(o, ",\"convictions\":[");
	for (i = 0; i < n_addr; i++) {
		if (i > 0)
			put(o, ",");
		put(o, "{\"date\":");
		put_date(o, rand_date(r, 1995, 2025));
		putf(o, ",\"offence\":\"%s\",\"victim_age_band\":\"%s\"}",
		     offences[rng_below(r, COUNT(offences))], age_bands[rng_below(r, COUNT(age_bands))]);
	}
	put(o, "]");

	put(o, ",\"orders\":[");
	u = rng_unit(r);
	if (u < 0.45) {
		size_t np = 1 + rng_below(r, 3), k;

		put(o, u < 0.40 ? "{\"type\":\"SHPO\",\"start\":" : "{\"type\":\"SRO\",\"start\":");
		put_date(o, rand_date(r, 2015, 2025));
		put(o, ",\"end\":null,\"prohibitions\":[");
		for (k = 0; k < np; k++) {
			if (k > 0)
				put(o, ",");
			put_str(o, prohibitions[(serial + k) % COUNT(prohibitions)]);
		}
		put(o, "]}");
	} else if (u < 0.55) {
		put(o, "{\"type\":\"notification\",\"start\":");
		put_date(o, rand_date(r, 2005, 2025));
		put(o, ",\"end\":null}");
	}
	put(o, "]");
	{
		struct date3 up = rand_date(r, 2025, 2026);

		if (up.y == 2026 && up.m > 10)
			up.m = 10;
		putf(o, ",\"updated\":\"%04d-%02d-%02dT%02d:%02d:00Z\"}\n", up.y, up.m,
		     up.d > days_in(up.y, up.m) ? days_in(up.y, up.m) : up.d,
		     (int)rng_below(r, 24), (int)rng_below(r, 60));
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: genregister [--seed N] [--count N] [-o FILE]\n"
		   "  writes N fictitious people in the import format, one JSON object a line;\n"
		   "  the same seed and count always give the same output\n");
}

static int parse_ulong(const char *s, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && s[0] != '-';
}

int main(int argc, char **argv)
{
	unsigned long long seed = 1, count = 1000, i;
	unsigned long serial[COUNT(forces)];
	const char *path = NULL;
	struct out *o;
	struct rng r;
	int a;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[a], "--seed") == 0 && a + 1 < argc) {
			if (!parse_ulong(argv[++a], &seed)) {
				fprintf(stderr, "genregister: --seed: not a number: %s\n", argv[a]);
				return 2;
			}
		} else if (strcmp(argv[a], "--count") == 0 && a + 1 < argc) {
			if (!parse_ulong(argv[++a], &count) || count > 100000000ULL) {
				fprintf(stderr, "genregister: --count: a number up to 100000000: %s\n",
					argv[a]);
				return 2;
			}
		} else if (strcmp(argv[a], "-o") == 0 && a + 1 < argc) {
			path = argv[++a];
		} else {
			fprintf(stderr, "genregister: unknown or incomplete argument: %s\n", argv[a]);
			usage(stderr);
			return 2;
		}
	}

	o = calloc(1, sizeof(*o));
	if (o == NULL) {
		fprintf(stderr, "genregister: out of memory\n");
		return 1;
	}
	o->f = stdout;
	if (path != NULL && (o->f = fopen(path, "w")) == NULL) {
		fprintf(stderr, "genregister: %s: %s\n", path, strerror(errno));
		free(o);
		return 1;
	}
	rng_seed(&r, seed);
	zipf_init();
	memset(serial, 0, sizeof(serial));
	for (i = 0; i < count; i++) {
		const struct force *f = pick_force(&r);

		/* Ids count per force, like a register's own numbering. */
		person(&r, o, f, ++serial[f - forces]);
		if (o->failed) {
			fprintf(stderr, "genregister: record %llu too large (a bug)\n", i + 1);
			break;
		}
		if (fwrite(o->buf, 1, o->len, o->f) != o->len)
			break;
	}
	if (fflush(o->f) != 0 || ferror(o->f) || o->failed) {
		fprintf(stderr, "genregister: writing %s: %s\n", path ? path : "stdout",
			strerror(errno));
		if (path != NULL)
			fclose(o->f);
		free(o);
		return 1;
	}
	if (path != NULL && fclose(o->f) != 0) {
		fprintf(stderr, "genregister: closing %s: %s\n", path, strerror(errno));
		free(o);
		return 1;
	}
	free(o);
	return 0;
}
